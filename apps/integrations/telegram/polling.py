"""Polling mode: getUpdates with offsets, then the same inbox → lead handling as the webhook."""

from apps.integrations.inbox import inbox_process, inbox_store
from apps.integrations.models import Channel, IntegrationSettings
from apps.integrations.telegram import client


def poll_once(*, integration: IntegrationSettings, timeout: int = 0, limit: int = 100) -> dict[str, int]:
    """One getUpdates call; every update is stored, the offset advanced, then processed."""
    counts = {"received": 0, "duplicates": 0, "failed": 0}
    updates = client.get_updates(
        integration.api_token_encrypted, offset=integration.telegram_offset, timeout=timeout, limit=limit
    )
    stored = []
    for update in updates:
        update_id = update.get("update_id")
        if not isinstance(update_id, int):
            continue
        item, created = inbox_store(
            channel=Channel.TELEGRAM, integration=integration, external_id=str(update_id), payload=update
        )
        counts["received"] += 1
        integration.telegram_offset = max(integration.telegram_offset, update_id + 1)
        IntegrationSettings.objects.filter(pk=integration.pk).update(telegram_offset=integration.telegram_offset)
        if created:
            stored.append(item)
        else:
            counts["duplicates"] += 1
    for item in stored:
        processed = inbox_process(item)
        if processed is not None and processed.status == "failed":
            counts["failed"] += 1
    return counts
