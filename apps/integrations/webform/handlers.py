"""Web-form item → lead, with the consent written to the clients' registry (one transaction)."""

import uuid
from datetime import date, datetime

from apps.clients.consents import consent_record
from apps.clients.models import Consent, ConsentChannel, ConsentText
from apps.integrations import ingest as door
from apps.integrations.inbox import HandlerResult, inbox_process, inbox_store
from apps.integrations.models import Channel, InboxItem, InboxStatus


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
    _record_consent(item, result.lead, form, consent)
    return HandlerResult(lead=result.lead, created=result.created)


def _record_consent(item: InboxItem, lead, form: dict, consent: dict) -> Consent:
    """The form's consent in the registry: the lead's (and its client's, when it has one), its sender
    named by the phone (else the e-mail) they typed, so the consent shows on the client card once they
    are a client. The submission id is the evidence's message id: a re-processed item records it once."""
    existing = Consent.objects.filter(channel=ConsentChannel.WEB, evidence_message_id=item.external_id).first()
    if existing is not None:
        return existing
    kind, value = ("phone", form["phone"]) if form.get("phone") else ("email", form.get("email") or "")
    return consent_record(
        text=_text_shown(consent), channel=ConsentChannel.WEB, client=lead.client if lead.client_id else None,
        subject_kind=kind if value else "", subject_value=value, lead_id=lead.pk,
        given_at=datetime.fromisoformat(consent["given_at"]), evidence_ip=consent.get("ip"),
        evidence_user_agent=consent.get("user_agent", ""), evidence_message_id=item.external_id,
    )


def _text_shown(consent: dict) -> ConsentText:
    """The text the person saw: by its SHA-256; a submission stored before the registry (version only)
    gets the old web-form text the migration kept as «web-<version>»; failing both, the current text."""
    from apps.documents.consent import current_consent_text

    text = None
    if consent.get("text_sha256"):
        text = ConsentText.objects.filter(sha256=consent["text_sha256"]).first()
    if text is None and consent.get("text_version"):
        version = consent["text_version"]
        text = ConsentText.objects.filter(version__in=[version, f"web-{version}"]).first()
    return text or current_consent_text()


def submit(payload: dict) -> InboxItem:
    """Store the submitted form in the inbox, then make the lead; returns the processed item."""
    item, _ = inbox_store(channel=Channel.WEB, external_id=f"web:{uuid.uuid4().hex}", payload=payload)
    processed = inbox_process(item)
    return processed or item


def lead_number_of(item: InboxItem) -> str:
    return item.lead_number if item.status == InboxStatus.PROCESSED else ""
