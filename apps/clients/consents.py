"""Consents to personal-data processing (152-FZ): record, withdraw, find — the services and selectors.

The consent *text* is built from the agency's requisites by apps.documents.consent (higher up);
here it arrives as a ConsentText row. Every change writes an audit event.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.clients.models import Client, ClientContact, Consent, ConsentChannel, ConsentPurpose, ConsentText
from apps.clients.normalization import contact_index, normalize_contact
from apps.core.auditing import audit_event
from apps.core.errors import BusinessError, ConflictError
from apps.core.files import normalise_declared, sniff_file
from apps.core.storage import random_key

DEFAULT_PURPOSES = (ConsentPurpose.CONTRACT, ConsentPurpose.TRANSFER)
SCAN_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})


def consent_text_ensure(*, body: str, version: str = "") -> ConsentText:
    """The ConsentText row of this exact body (one row per distinct text)."""
    import hashlib

    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    existing = ConsentText.objects.filter(sha256=digest).first()
    if existing is not None:
        return existing
    version = version or f"{timezone.localdate():%Y%m%d}-{digest[:8]}"
    text, _ = ConsentText.objects.get_or_create(version=version, defaults={"body": body})
    return text


def subject_indexes_of(kind: str, value: str) -> list[str]:
    """For lookups: the old key's index too while BLIND_INDEX_KEY is being rotated."""
    from apps.clients.normalization import contact_index_candidates

    return contact_index_candidates(kind, normalize_contact(kind, value))


def consent_active_exists(*, lead_id: int | None, client_id: int | None, subject_kind: str = "",
                          subject_value: str = "") -> bool:
    """Whether an active consent covers the lead, its client or the sender's verified id (one query)."""
    from apps.clients import queries

    indexes = subject_indexes_of(subject_kind, subject_value) if subject_kind and subject_value else []
    return queries.consent_active_exists(
        lead_id=lead_id, client_id=client_id, subject_kind=subject_kind, subject_indexes=indexes
    )


def subject_index_of(kind: str, value: str) -> str:
    """The blind index a sender's verified id / e-mail gets (the same as their ClientContact's)."""
    return contact_index(kind, normalize_contact(kind, value))


def _purposes(purposes) -> list[str]:
    chosen = list(dict.fromkeys(purposes or DEFAULT_PURPOSES))
    unknown = [p for p in chosen if p not in ConsentPurpose.values]
    if unknown:
        raise ValidationError({"purposes": [f"Неизвестная цель: {', '.join(unknown)}."]})
    return chosen


@transaction.atomic
def consent_record(
    *, text: ConsentText, channel: str, client: Client | None = None, subject_kind: str = "",
    subject_value: str = "", lead_id: int | None = None, purposes=None, given_at: dt.datetime | None = None,
    evidence_ip: str | None = None, evidence_user_agent: str = "", evidence_message_id: str = "",
    recorded_by=None, scan=None,
) -> Consent:
    """Record a consent. A messenger sender without a client is identified by subject_kind/value."""
    if channel not in ConsentChannel.values:
        raise ValidationError({"channel": ["Неизвестный канал согласия."]})
    if channel == ConsentChannel.PAPER and scan is None:
        raise ValidationError({"scan": ["Приложите скан подписанного согласия."]})
    consent = Consent(
        client=client, lead_id=lead_id, purposes=_purposes(purposes), text=text, channel=channel,
        given_at=given_at or timezone.now(), evidence_ip=evidence_ip or None,
        evidence_user_agent=(evidence_user_agent or "")[:500], evidence_message_id=(evidence_message_id or "")[:255],
        recorded_by=recorded_by if getattr(recorded_by, "is_authenticated", False) else None,
    )
    if subject_kind and subject_value:
        consent.subject_kind = subject_kind
        consent.subject_index = subject_index_of(subject_kind, subject_value)
        consent.subject_value = normalize_contact(subject_kind, subject_value)
    if client is None and not consent.subject_index:
        raise BusinessError("Не указано, чьё это согласие.", code="consent_subject_missing")
    if scan is not None:
        consent.scan.save(random_key("consents", getattr(scan, "name", "scan.pdf")), _checked_scan(scan), save=False)
    consent.full_clean(exclude=["scan", "text", "recorded_by", "withdrawn_by", "client"])
    consent.save()
    audit_event(event="consent_given", target=consent, actor=consent.recorded_by,
                data={"channel": channel, "purposes": consent.purposes, "text_version": text.version})
    return consent


def _checked_scan(scan):
    from django.conf import settings

    content_type = normalise_declared(getattr(scan, "content_type", ""))
    if content_type not in SCAN_TYPES:
        raise ValidationError({"scan": ["Скан должен быть PDF, JPEG или PNG."]})
    if not scan.size or scan.size > settings.MAX_UPLOAD_SIZE:
        raise ValidationError({"scan": ["Файл пустой или слишком большой."]})
    if sniff_file(scan) != content_type:  # the bytes decide (apps.core.files), not the declared type
        raise ValidationError({"scan": ["Содержимое файла не соответствует его типу."]})
    return scan


@transaction.atomic
def consent_withdraw(*, consent: Consent, actor=None, at: dt.datetime | None = None) -> Consent:
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if consent.withdrawn_at is not None:
        raise ConflictError("Согласие уже отозвано.", code="consent_already_withdrawn")
    consent.withdrawn_at = at or timezone.now()
    consent.withdrawn_by = actor if getattr(actor, "is_authenticated", False) else None
    consent.save(update_fields=["withdrawn_at", "withdrawn_by"])
    audit_event(event="consent_withdrawn", target=consent, actor=consent.withdrawn_by)
    return consent


def consents_of_client(client_id: int, lead_ids=()) -> QuerySet[Consent]:
    """The client's own consents, those given by their contacts before they were a client, and those
    given for their leads (`lead_ids`: the leads app's ids, passed in — clients sit below leads)."""
    indexes = ClientContact.objects.filter(client_id=client_id).values("blind_index")
    condition = Q(client_id=client_id) | Q(subject_index__in=indexes, client__isnull=True)
    if lead_ids:
        condition |= Q(lead_id__in=lead_ids)
    return (
        Consent.objects.filter(condition)
        .select_related("text", "recorded_by")
        .order_by("-given_at", "-id")
    )


def consent_to_dict(consent: Consent) -> dict:
    return {
        "id": consent.id,
        "purposes": consent.purposes,
        "channel": consent.channel,
        "given_at": consent.given_at.isoformat(),
        "withdrawn_at": consent.withdrawn_at.isoformat() if consent.withdrawn_at else None,
        "is_active": consent.withdrawn_at is None,
        "text_version": consent.text.version,
        "text_sha256": consent.text.sha256,
        "lead_id": consent.lead_id,
        "evidence": {
            "ip": consent.evidence_ip,
            "user_agent": consent.evidence_user_agent,
            "message_id": consent.evidence_message_id,
            "recorded_by": consent.recorded_by.email if consent.recorded_by_id else None,
            "has_scan": bool(consent.scan),
        },
    }

