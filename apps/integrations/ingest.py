"""The one door from the channels into the leads app (apps.leads.services.lead_ingest)."""

import logging
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger("travelcrm.integrations")


def ingest(**kwargs):
    """Call lead_ingest (imported late: the leads app owns it)."""
    from apps.leads.services import lead_ingest

    return lead_ingest(**kwargs)


def attachment(*, name: str, content_type: str, content: bytes | None, size: int, note: str = ""):
    from apps.leads.services import IncomingAttachment

    return IncomingAttachment(name=name, content_type=content_type, content=content, size=size, note=note)


def reply_after_commit(send: Callable[[], None], *, channel: str) -> None:
    """Send an answer to the customer once the lead is committed; a failure only logs."""

    def run():
        try:
            send()
        except Exception as error:  # noqa: BLE001 — a failed reply must never lose the lead
            logger.warning("reply failed", extra={"channel": channel, "error_type": type(error).__name__})

    transaction.on_commit(run)


def lead_number(lead) -> str:
    return str(getattr(lead, "number", "") or getattr(lead, "pk", ""))
