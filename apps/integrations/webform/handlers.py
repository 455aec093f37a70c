"""Web-form item → lead, with the consent stored next to it (one transaction)."""

import uuid
from datetime import date, datetime

from apps.integrations import ingest as door
from apps.integrations.inbox import HandlerResult, inbox_process, inbox_store
from apps.integrations.models import Channel, Consent, InboxItem, InboxStatus


def _text(form: dict) -> str:
    lines = []
    if form.get("date_from") or form.get("date_to"):
        start = _ru_date(form.get("date_from")) or "?"
        end = _ru_date(form.get("date_to")) or "?"
        lines.append(f"Даты поездки: {start} — {end}")
    if form.get("wishes"):
        lines.append(form["wishes"])
    return "\n".join(lines) or "Заявка с сайта"


def _ru_date(value: str | None) -> str:
    return date.fromisoformat(value).strftime("%d.%m.%Y") if value else ""


def handle_item(item: InboxItem) -> HandlerResult:
    form = item.payload["form"]
    consent = item.payload["consent"]
    sender = {key: form.get(key) for key in ("name", "phone", "email") if form.get(key)}
    result = door.ingest(
        channel="web",
        external_id=item.external_id,
        sender=sender,
        text=_text(form),
        payload={"form": form, "consent_version": consent["text_version"]},
    )
    Consent.objects.update_or_create(
        inbox_item=item,
        defaults={
            "channel": Channel.WEB,
            "text_version": consent["text_version"],
            "given_at": datetime.fromisoformat(consent["given_at"]),
            "ip_address": consent.get("ip"),
            "lead_pk": result.lead.pk,
        },
    )
    return HandlerResult(lead=result.lead, created=result.created)


def submit(payload: dict) -> InboxItem:
    """Store the submitted form in the inbox, then make the lead; returns the processed item."""
    item, _ = inbox_store(channel=Channel.WEB, external_id=f"web:{uuid.uuid4().hex}", payload=payload)
    processed = inbox_process(item)
    return processed or item


def lead_number_of(item: InboxItem) -> str:
    return item.lead_number if item.status == InboxStatus.PROCESSED else ""
