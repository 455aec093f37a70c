"""Signal receivers of the integrations app (connected in IntegrationsConfig.ready)."""


def lead_created(sender, instance, created, raw=False, **kwargs) -> None:
    """post_save of Lead: the new-lead notice job, enqueued in the transaction that creates the lead
    (rolled back with it, never lost once committed) — only when a notice could be sent at all.

    Without an active operators' bot, or with no active user who set a Telegram chat id, the job
    would find nobody to notify: one indexed EXISTS (the statement the defer would have cost) instead
    of a job row, its NOTIFY and a worker run for every lead (issue 15: that job was a third of the
    worker's CPU per new Telegram lead). The job itself still checks everything when it runs."""
    if created and not raw and _notices_possible():
        from apps.integrations.tasks import notify_new_lead

        notify_new_lead.defer(lead_id=instance.pk)


def _notices_possible() -> bool:
    from apps.integrations import queries
    from apps.integrations.models import IntegrationType, Purpose

    return queries.notices_possible(IntegrationType.TELEGRAM, Purpose.OPERATORS)
