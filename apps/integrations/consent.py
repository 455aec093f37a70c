"""Consent to personal-data processing from messenger and e-mail senders (152-FZ).

The first reply to a new lead carries a link to the consent text; the sender consents by a
confirming action: opening the link and pressing «Даю согласие» (any channel), or answering
«Согласен» in the same Telegram / WhatsApp chat (the sender's verified id). The consent is recorded
in the clients' registry against the sender's verified identity, so it appears on the client card
once the sender becomes a client.
"""

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.clients.consents import consent_record
from apps.clients.models import Consent, ConsentChannel
from apps.documents.consent import current_consent_text

SALT = "travelcrm.consent-link"
LINK_MAX_AGE = 60 * 60 * 24 * 60  # a link in a chat stays valid for 60 days
AGREE_WORDS = {"согласен", "согласна", "даю согласие", "согласен.", "согласна.", "да, согласен", "да, согласна"}
# The sender identity each channel verifies, and where the lead keeps it.
SUBJECT_FIELD = {"telegram": "contact_telegram", "whatsapp": "contact_whatsapp", "email": "contact_email"}


def consent_token(lead) -> str:
    return signing.dumps({"lead": lead.pk}, salt=SALT, compress=True)


def lead_from_token(token: str):
    from apps.leads.models import Lead

    try:
        data = signing.loads(token, salt=SALT, max_age=LINK_MAX_AGE)
    except signing.BadSignature:
        return None
    return Lead.objects.filter(pk=data.get("lead")).first()


def consent_url(lead) -> str:
    path = reverse("consent-confirm", args=[consent_token(lead)])
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}" if settings.PUBLIC_BASE_URL else path


def consent_invitation(lead, *, can_reply: bool = True, button: bool = False) -> str:
    """The paragraph added to the first reply of a new lead."""
    how = " или ответьте на это сообщение словом «Согласен»" if can_reply else ""
    if button:
        return (
            "\n\nЧтобы мы могли подобрать и оформить поездку, нам нужно ваше согласие на обработку персональных "
            f"данных. Текст согласия: {consent_url(lead)}. Нажмите кнопку «Даю согласие» под этим сообщением{how}."
        )
    return (
        "\n\nЧтобы мы могли подобрать и оформить поездку, нам нужно ваше согласие на обработку персональных "
        f"данных. Текст согласия: {consent_url(lead)} — нажмите там «Даю согласие»{how}."
    )


BUTTON_TEXT = "Даю согласие"
CALLBACK_PREFIX = "consent:"


def consent_button(lead) -> dict:
    """The confirming button (Telegram callback_data / WhatsApp reply id ≤ 64 bytes): names the
    lead, but only a press by that lead's own sender counts (see consent_from_button)."""
    return {"text": BUTTON_TEXT, "data": f"{CALLBACK_PREFIX}{lead.pk}"}


def consent_offer(lead, channel: str, text: str) -> tuple[str, list[dict]]:
    """The first message to a sender without a consent: `text` + the link (and, in the
    messengers, the button). Anything else, or a sender who consented: unchanged."""
    if channel not in SUBJECT_FIELD or has_active_consent(lead):
        return text, []
    messenger = channel != "email"  # an e-mail's From is not verified: consent by the link only
    invitation = consent_invitation(lead, can_reply=messenger, button=messenger)
    return text + invitation, [consent_button(lead)] if messenger else []


def is_agreement(text: str) -> bool:
    return " ".join((text or "").lower().split()) in AGREE_WORDS


def has_active_consent(lead) -> bool:
    """One query: an active consent of the lead, of its client, or of its sender's verified id."""
    from apps.clients.consents import consent_active_exists

    kind = lead.source if lead.source in SUBJECT_FIELD else ""
    value = getattr(lead, SUBJECT_FIELD[kind], "") if kind else ""
    return consent_active_exists(lead_id=lead.pk, client_id=lead.client_id, subject_kind=kind if value else "",
                                 subject_value=value)


def consent_from_lead(*, lead, channel: str, message_id: str = "", ip: str | None = None, user_agent: str = ""):
    """Record the sender's consent (idempotent: an active consent for this lead is returned as is)."""
    existing = Consent.objects.filter(lead_id=lead.pk, withdrawn_at__isnull=True).first()
    if existing is not None:
        return existing
    kind = lead.source if lead.source in SUBJECT_FIELD else ""
    value = getattr(lead, SUBJECT_FIELD[kind], "") if kind else ""
    if not value and lead.contact_email:
        kind, value = "email", lead.contact_email
    return consent_record(
        text=current_consent_text(), channel=channel if channel in ConsentChannel.values else ConsentChannel.WEB,
        client=lead.client if lead.client_id else None, subject_kind=kind if value else "",
        subject_value=value, lead_id=lead.pk, evidence_message_id=message_id, evidence_ip=ip,
        evidence_user_agent=user_agent,
    )


def consent_from_button(*, data: str, channel: str, sender_id: str, evidence: str):
    """A press of the consent button (`data` = "consent:<lead id>"). Counts only when the presser is
    that lead's own verified sender (Telegram from.id, WhatsApp wa_id): a button pressed — or
    callback data forged — in another chat gives no consent for this sender. Returns (lead, consent)
    or (lead or None, None) when refused."""
    from apps.clients.normalization import normalize_contact
    from apps.leads.models import Lead

    if not data.startswith(CALLBACK_PREFIX) or not data[len(CALLBACK_PREFIX):].isdigit():
        return None, None
    lead = Lead.objects.filter(pk=int(data[len(CALLBACK_PREFIX):])).first()
    if lead is None or channel not in SUBJECT_FIELD:
        return None, None
    expected = getattr(lead, SUBJECT_FIELD[channel], "")
    try:
        same = bool(expected) and normalize_contact(channel, str(expected)) == normalize_contact(
            channel, str(sender_id)
        )
    except ValidationError:
        same = False
    if not same:
        return lead, None
    return lead, consent_from_lead(lead=lead, channel=channel, message_id=evidence)
