"""The raw inbox: every incoming item is stored first, then processed (issue 7, point 6).

A channel calls `inbox_store(...)` (its own transaction, committed at once) and then
`inbox_process(item)`. If processing fails the item keeps its error and status `failed`;
`manage.py reprocess_inbox` (or the admin action) retries it. Processing is idempotent:
`lead_ingest` is idempotent on (channel, external_id); a retry locks the item's row, the request that
stored it does not need to (see inbox_process).
"""

import importlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.integrations import queries
from apps.integrations.errors import safe_message
from apps.integrations.models import InboxItem, InboxStatus, IntegrationSettings

logger = logging.getLogger("travelcrm.integrations.inbox")

# A request stores its item and processes it at once; gunicorn's timeout (30 s) ends it well before.
PENDING_GRACE = timedelta(minutes=2)

# channel -> "module:function" taking an InboxItem and returning a HandlerResult.
HANDLERS = {
    "telegram": "apps.integrations.telegram.handlers:handle_item",
    "whatsapp": "apps.integrations.whatsapp.handlers:handle_item",
    "email": "apps.integrations.email.handlers:handle_item",
    "web": "apps.integrations.webform.handlers:handle_item",
}


@dataclass
class HandlerResult:
    """What a channel handler did with one item."""

    lead: object | None = None
    created: bool = False
    ignored: bool = False
    notes: list[str] = field(default_factory=list)


def _handler(channel: str):
    module_name, func_name = HANDLERS[channel].split(":")
    return getattr(importlib.import_module(module_name), func_name)


def inbox_store(
    *, channel: str, external_id: str, payload: dict, integration: IntegrationSettings | None = None
) -> tuple[InboxItem | None, bool]:
    """Store a raw item (committed at once). Returns (item, True), or (None, False) for a retry.

    One INSERT ... ON CONFLICT DO NOTHING (the unique constraints are the dedup), so concurrent
    retries of one update never both win and the hot path costs a single statement.
    """
    item = InboxItem(
        channel=channel,
        integration=integration,
        external_id=str(external_id)[:255],
        payload=payload,
        received_at=timezone.now(),
    )
    pk = queries.inbox_insert(item)
    if pk is None:
        return None, False
    item.pk = pk
    item._state.adding = False
    item._state.db = connection.alias
    return item, True


def inbox_process(item: InboxItem | int) -> InboxItem | None:
    """Process one item; on failure keep it with its error. Never raises.

    Pass an id and the item is locked (skipped when another process holds it), its status
    re-checked and it is loaded. Pass the InboxItem that inbox_store just returned (with its
    integration) and it is neither read nor locked again — one statement less on every webhook:
    nothing else takes a pending item this young (the scheduled retry leaves pending items alone
    for PENDING_GRACE), and were it processed twice, the second run would find its message already
    taken (lead_ingest is idempotent per message, under an advisory lock) and send nothing.
    """
    item_id = item if isinstance(item, int) else item.pk
    try:
        with transaction.atomic():
            if isinstance(item, int):
                state = queries.inbox_lock(item_id)
                if state is None:  # being processed right now by someone else, or gone
                    return None
                item = InboxItem.objects.select_related("integration").get(pk=item_id)
                item.status, item.attempts = state
            if item.status in (InboxStatus.PROCESSED, InboxStatus.IGNORED):
                return item
            result = _handler(item.channel)(item)
            _mark_done(item, result)
            return item
    except Exception as error:  # noqa: BLE001 — any failure must leave the item for a retry
        message = safe_message(error)
        logger.warning(
            "inbox item failed",
            extra={"inbox_item_id": item_id, "error_type": type(error).__name__, "error": message[:300]},
        )
        InboxItem.objects.filter(pk=item_id).update(
            status=InboxStatus.FAILED, error=message, attempts=F("attempts") + 1
        )
        return InboxItem.objects.filter(pk=item_id).first()


def _mark_done(item: InboxItem, result: HandlerResult) -> None:
    item.status = InboxStatus.IGNORED if result.ignored else InboxStatus.PROCESSED
    item.attempts += 1
    item.processed_at = timezone.now()
    item.error = "\n".join(result.notes)[:2000]
    if result.lead is not None:
        item.lead_pk = result.lead.pk
        item.lead_number = str(getattr(result.lead, "number", "") or "")[:32]
    queries.inbox_save_done(item)


def inbox_reprocess(
    *, ids=None, channel: str | None = None, limit: int = 500, max_attempts: int | None = None
) -> dict[str, int]:
    """Retry pending and failed items (oldest first). Returns counts per resulting status.

    max_attempts skips items that already failed that many times (a scheduled run should not retry a
    permanently broken item forever) and pending items younger than PENDING_GRACE (still being
    processed by the request that stored them); explicit ids are always retried.
    """
    queryset = InboxItem.objects.filter(status__in=[InboxStatus.PENDING, InboxStatus.FAILED])
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    elif max_attempts:
        # The scheduled run: a pending item younger than PENDING_GRACE is its request's, in flight.
        young = Q(status=InboxStatus.PENDING, received_at__gt=timezone.now() - PENDING_GRACE)
        queryset = queryset.filter(attempts__lt=max_attempts).exclude(young)
    if channel:
        queryset = queryset.filter(channel=channel)
    counts: dict[str, int] = {}
    for item_id in queryset.order_by("pk").values_list("pk", flat=True)[:limit]:
        item = inbox_process(item_id)
        status = item.status if item else "missing"
        counts[status] = counts.get(status, 0) + 1
    return counts
