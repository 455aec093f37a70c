"""What the integrations app holds about a person, erased when the audit app anonymises a client.

Registered with apps.core.erasure in IntegrationsConfig.ready(): the raw inbox payloads of the
person's leads (they carry names, phones, texts, file ids) and what was sent to them. Consents of
every channel, the web form's included, live in the clients' registry and are erased by the audit
app itself.
"""

from apps.integrations.models import InboxItem


def erase_subject(*, client_id: int, lead_ids: list[int]) -> dict[str, int]:
    if not lead_ids:
        return {}
    payloads = InboxItem.objects.filter(lead_pk__in=lead_ids, payload__isnull=False).update(payload=None)
    return {"inbox_payloads": payloads, "outbound_messages": _erase_outbound(lead_ids)}


def _erase_outbound(lead_ids: list[int]) -> int:
    """Messages sent to the person: text, recipient and headers blanked; uploaded files deleted (the
    order's documents they referenced belong to the documents app and stay)."""
    from django.core.files.storage import default_storage

    from apps.integrations.models import OutboundMessage

    erased = 0
    for message in OutboundMessage.objects.filter(lead_pk__in=lead_ids):
        for spec in message.attachments or []:
            if not spec.get("document_id") and str(spec.get("key", "")).startswith("outbound/"):
                default_storage.delete(spec["key"])
        OutboundMessage.objects.filter(pk=message.pk).update(text="", meta={}, attachments=[], chat_id="—")
        erased += 1
    return erased


def purge_processed_payloads(*, before, dry_run: bool) -> int:
    """Raw inbox payloads of items processed before `before` (the lead keeps what was taken from them)."""
    from apps.integrations.models import InboxStatus

    items = InboxItem.objects.filter(status=InboxStatus.PROCESSED, processed_at__lt=before, payload__isnull=False)
    return items.count() if dry_run else items.update(payload=None)
