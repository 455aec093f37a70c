"""Files that come with a message are downloaded by a job, not inside the webhook request.

The handler stores the message with each file as an attachment row without content (note
PENDING_NOTE), so the lead appears at once; `media_enqueue` defers one `fetch_media` job per file
in the same transaction. The job downloads it (with retries) and fills the row; when it gives up,
the row keeps a note saying why, so the manager sees the file was there and asks again.
"""

from __future__ import annotations

from apps.integrations import ingest as door

PENDING_NOTE = "Файл загружается из мессенджера…"
FAILED_NOTE = "Не удалось загрузить файл из мессенджера ({reason}). Попросите клиента прислать его ещё раз."


def media_enqueue(*, message, channel: str, integration_id: int, refs: list[str]) -> int:
    """Defer a download for each waiting attachment of `message`, in file order (refs: Telegram
    file_id / WhatsApp media id, same order as the attachments were given to ingest)."""
    from apps.integrations.tasks import fetch_media

    waiting = door.attachments_waiting(message, PENDING_NOTE)
    for attachment_id, ref in zip(waiting, refs, strict=True):
        fetch_media.defer(attachment_id=attachment_id, channel=channel, integration_id=integration_id, ref=ref)
    return len(waiting)
