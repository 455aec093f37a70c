"""Signal receivers of the integrations app (connected in IntegrationsConfig.ready)."""


def lead_created(sender, instance, created, raw=False, **kwargs) -> None:
    """post_save of Lead: the new-lead notice job, enqueued in the transaction that creates the lead
    (rolled back with it, never lost once committed)."""
    if created and not raw:
        from apps.integrations.tasks import notify_new_lead

        notify_new_lead.defer(lead_id=instance.pk)
