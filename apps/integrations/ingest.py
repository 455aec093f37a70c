"""The one door from the channels into the leads app (apps.leads.services.lead_ingest)."""

import logging

logger = logging.getLogger("travelcrm.integrations")


def ingest(**kwargs):
    """Call lead_ingest (imported late: the leads app owns it)."""
    from apps.leads.services import lead_ingest

    return lead_ingest(**kwargs)


def attachment(*, name: str, content_type: str, content: bytes | None, size: int, note: str = ""):
    from apps.leads.services import IncomingAttachment

    return IncomingAttachment(name=name, content_type=content_type, content=content, size=size, note=note)


def attachments_waiting(message, note: str) -> list:
    """The message's attachments stored without content under `note` (downloads to come), by id."""
    return list(message.attachments.filter(file="", note=note).order_by("id").values_list("pk", flat=True))


def attachment_fill(*, attachment_id: int, content: bytes | None, note: str = ""):
    from apps.leads.services import lead_attachment_fill

    return lead_attachment_fill(attachment_id=attachment_id, content=content, note=note)


def lead_number(lead) -> str:
    return str(getattr(lead, "number", "") or getattr(lead, "pk", ""))
