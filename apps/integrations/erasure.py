"""What the integrations app holds about a person, erased when the audit app anonymises a client.

Registered with apps.core.erasure in IntegrationsConfig.ready(): the raw inbox payloads of the
person's leads (they carry names, phones, texts, file ids) and what was sent to them. Consents of
every channel, the web form's included, live in the clients' registry and are erased by the audit
app itself.
"""

import datetime as dt

from apps.integrations.models import InboxItem

# Reply uploads live under this prefix (apps.workplace.replies); a module attribute so that a test
# can use a prefix of its own in the shared bucket.
REPLY_PREFIX = "outbound/"


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


def purge_orphan_reply_files(*, before, dry_run: bool) -> int:
    """Files uploaded for a reply that was never stored (its request rolled back after the upload):
    in storage under REPLY_PREFIX, older than `before`, named by no outgoing message. Stored replies'
    files stay with their message (anonymisation erases them with the person)."""
    from django.core.files.storage import default_storage

    from apps.core.storage import keys_older_than
    from apps.integrations.models import OutboundMessage

    stale = set(keys_older_than(REPLY_PREFIX, before))
    if not stale:
        return 0
    # A message is written seconds after its files: one created up to a day after the cut-off may
    # still name a stale file. Attachments are encrypted, so they are read, not filtered in SQL.
    messages = OutboundMessage.objects.filter(created_at__lt=before + dt.timedelta(days=1))
    for attachments in messages.values_list("attachments", flat=True).iterator(chunk_size=2000):
        stale -= {spec.get("key") for spec in attachments or []}
    if not dry_run:
        for key in stale:
            default_storage.delete(key)
    return len(stale)
