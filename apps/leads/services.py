"""Every write to leads goes through here: intake from all channels, manual leads, transitions.

`lead_ingest` is the single entry point of every intake channel (Telegram, WhatsApp, e-mail, the
web form). It is idempotent on (channel, external_id): a PostgreSQL advisory lock serialises two
deliveries of the same message and the unique constraint on LeadMessage is the last word.
"""

import copy
import hashlib
import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.auditing import save_audited
from apps.core.errors import BusinessError, ConflictError
from apps.core.files import served_type, sniff_content_type
from apps.core.storage import random_key
from apps.leads import queries
from apps.leads.contacts import CHANNEL_VERIFIED_KINDS, CONTACT_FIELDS, SenderContacts, sender_contacts
from apps.leads.models import (
    ALLOWED_TRANSITIONS,
    OPEN_STATUSES,
    Lead,
    LeadAttachment,
    LeadMessage,
    LeadSource,
    LeadStatus,
    MessageDirection,
)
from apps.leads.selectors import lead_open_of_sender_locked, lead_open_sharing_contacts, message_id_taken

logger = logging.getLogger(__name__)

INTAKE_CHANNELS = {LeadSource.TELEGRAM, LeadSource.WHATSAPP, LeadSource.EMAIL, LeadSource.WEB}


@dataclass(frozen=True)
class IncomingAttachment:
    """A file that came with a message. content None + note: the file could not be fetched."""

    name: str
    content_type: str
    content: bytes | None
    size: int
    note: str = ""


@dataclass
class IngestResult:
    lead: Lead
    message: LeadMessage
    created: bool  # a new lead was opened for this message
    duplicate: bool  # the message had been taken before; nothing was written


@dataclass
class _StoredFiles:
    keys: list[str] = field(default_factory=list)

    def delete_all(self) -> None:
        for key in self.keys:
            try:
                default_storage.delete(key)
            except Exception:  # noqa: BLE001 - best effort clean-up; the original error matters
                logger.warning("could not delete an orphaned lead attachment", extra={"key": key})


# --- Intake ----------------------------------------------------------------------------------------


def lead_ingest(
    *,
    channel: str,
    external_id: str,
    sender: dict,
    text: str = "",
    payload: dict | None = None,
    attachments: Sequence[IncomingAttachment] = (),
    received_at: datetime | None = None,
    verified: Collection[str] = (),
) -> IngestResult:
    """Take one incoming message: append it to the sender's open lead or open a new lead.

    Idempotent on (channel, external_id). Only a verified identity (Telegram from.id, WhatsApp
    wa_id, and the kinds named in `verified`, e.g. "phone" for a Telegram contact the sender
    shared of themselves) finds the sender's open lead or links a client. A claimed phone or
    e-mail (web form, e-mail From, somebody else's contact) opens the sender's own lead and only
    fills `suggested_client` / `possible_duplicate_of` for a manager to act on.
    Attachments go to object storage inside the same unit of work: when anything fails, the
    database rolls back and the files already stored are deleted.
    Called inside a transaction, it joins it without a savepoint: if it raises, the caller's
    transaction must be rolled back (inbox_process does).
    """
    channel = _checked_channel(channel)
    external_id = str(external_id or "").strip()
    if not external_id:
        raise BusinessError("Не указан идентификатор сообщения.", code="external_id_required")
    kinds = CHANNEL_VERIFIED_KINDS.get(channel, frozenset()) | frozenset(verified)
    contacts = sender_contacts(sender or {}, verified=kinds)
    received_at = received_at or timezone.now()
    stored = _StoredFiles()
    try:
        return _ingest_atomic(
            channel=channel,
            external_id=external_id,
            contacts=contacts,
            text=text or "",
            payload=payload or {},
            attachments=attachments,
            received_at=received_at,
            stored=stored,
        )
    except BaseException:
        stored.delete_all()
        raise


# Inside a caller's transaction (inbox_process) no savepoint is taken: a failure here fails the
# whole unit of work anyway (the caller rolls back and records the error outside), so a savepoint
# would only cost two more round trips per message. Outside one, this is the transaction.
@transaction.atomic(savepoint=False)
def _ingest_atomic(*, channel, external_id, contacts, text, payload, attachments, received_at, stored):
    # The message lock first, then the sender's in sorted order (every path takes them in this
    # order, so two deliveries never deadlock); one statement instead of one per lock.
    _advisory_locks(
        [f"lead-message:{channel}:{external_id}", *(f"lead-sender:{key}" for key in sorted(contacts.lock_keys()))]
    )
    existing = _known_message(channel, external_id)
    if existing is not None:
        return IngestResult(lead=existing.lead, message=existing, created=False, duplicate=True)

    lead = lead_open_of_sender_locked(contacts.lead_terms())
    created = lead is None
    before = None if created else copy.copy(lead)
    verified = contacts.only(contacts.verified)
    if lead is None:
        lead = Lead(source=channel, external_id=external_id, payload=payload)
        _apply_contacts(lead, contacts, overwrite=False)  # its own lead: what the sender gave
    else:
        _apply_contacts(lead, verified, overwrite=False)  # a claimed value never writes into it
    if lead.client_id is None:
        lead.client = _find_client(verified)
    _suggest(lead, contacts, created=created)
    lead.last_message_at = max(filter(None, [lead.last_message_at, received_at]))
    # The (source, external_id) constraint is not re-checked with a SELECT: the message lock and
    # the known-message check above already rule a second lead out, and the database constraint
    # stays the last word.
    lead.full_clean(exclude=["number"], validate_constraints=False)
    if created:
        lead.save()
    else:
        _save_append(cast(Lead, before), lead)

    # No savepoint: the message lock and the check above make a duplicate unreachable; should the
    # constraint fire anyway (someone bypassed the lock) the whole ingest fails and rolls back.
    try:
        message = LeadMessage.objects.create(
            lead=lead,
            channel=channel,
            external_id=external_id,
            direction=MessageDirection.INCOMING,
            text=text,
            payload=payload,
            received_at=received_at,
        )
    except IntegrityError:
        raise ConflictError("Сообщение уже принято.", code="duplicate_message") from None
    _store_attachments(lead, message, attachments, stored)
    return IngestResult(lead=lead, message=message, created=created, duplicate=False)


def _save_append(before: Lead, lead: Lead) -> None:
    """Write only the fields an appended message changed, and audit them.

    django-auditlog's own update receiver would re-read (and decrypt) the whole row to diff it, and
    a full save re-encrypts every contact field. The row has been locked FOR UPDATE since we read
    it, so `before` is exactly what the database holds: the entry is the one auditlog would write.
    """
    changed = [
        field.name
        for field in Lead._meta.concrete_fields
        if not field.primary_key and getattr(before, field.attname) != getattr(lead, field.attname)
    ]
    changed.append("updated_at")  # auto_now: set by save()
    save_audited(lead, before, update_fields=changed)


def _checked_channel(channel: str) -> str:
    if channel not in INTAKE_CHANNELS:
        raise BusinessError(
            "Неизвестный канал заявки.", code="invalid_channel", fields={"channel": ["Неизвестный канал."]}
        )
    return str(channel)


def _advisory_locks(names: Sequence[str]) -> None:
    """Transaction-scoped PostgreSQL advisory locks keyed by a 64-bit hash of each name.

    Taken in the given order: PostgreSQL evaluates a select list left to right.
    """
    keys = [
        int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True) for name in names
    ]
    queries.advisory_locks(keys)


def _known_message(channel: str, external_id: str) -> LeadMessage | None:
    message_id = message_id_taken(channel, external_id)
    if message_id is None:
        return None
    return LeadMessage.objects.select_related("lead").get(pk=message_id)


def _find_client(contacts: SenderContacts):
    """The one client whose contacts match the sender's; None when none or ambiguous."""
    if not contacts.has_lookup_values():
        return None
    from apps.clients.selectors import client_of_contacts

    return client_of_contacts(
        phones=contacts.phones(),
        emails=contacts.emails(),
        telegram_ids=contacts.telegram_ids(),
        whatsapp_ids=contacts.whatsapp_ids(),
    )


def _suggest(lead: Lead, contacts: SenderContacts, *, created: bool) -> None:
    """Hints for a manager from what the sender only claimed: a client, an open lead of the same person.

    A new lead also looks for open leads sharing its verified values in columns the verified
    lookup does not search (a web-form lead with the phone a WhatsApp sender writes from).
    """
    claimed = contacts.only(contacts.claimed_kinds())
    if lead.client_id is None and lead.suggested_client_id is None and claimed.has_lookup_values():
        lead.suggested_client = _find_client(claimed)
    if lead.possible_duplicate_of_id is None and (created or claimed.has_lookup_values()):
        terms = contacts.duplicate_terms() if created else claimed.duplicate_terms()
        lead.possible_duplicate_of_id = lead_open_sharing_contacts(terms, exclude_pk=lead.pk)


def _apply_contacts(lead: Lead, contacts: SenderContacts, *, overwrite: bool) -> None:
    """Copy the sender's contacts to the lead (fills only the empty ones unless overwrite)."""
    for value_field, index_field, value, index in contacts.fields():
        if value and (overwrite or not getattr(lead, value_field)):
            setattr(lead, value_field, value)
            setattr(lead, index_field, index)
        elif overwrite and not value:
            setattr(lead, value_field, "")
            setattr(lead, index_field, "")
    if contacts.name and (overwrite or not lead.contact_name):
        lead.contact_name = contacts.name
    elif overwrite and not contacts.name:
        lead.contact_name = ""


def _store_attachments(
    lead: Lead, message: LeadMessage | None, attachments: Iterable[IncomingAttachment], stored: _StoredFiles
) -> list[LeadAttachment]:
    rows = []
    for attachment in attachments:
        row = LeadAttachment(
            lead=lead,
            message=message,
            name=(attachment.name or "file")[:255],
            # The sender's declared type is only their word: the stored type comes from the bytes.
            content_type=served_type(attachment.content_type),
            size=max(int(attachment.size or 0), 0),
            note=(attachment.note or "")[:255],
        )
        if attachment.content is not None:
            row.content_type = sniff_content_type(attachment.content)
            key = default_storage.save(random_key("leads", attachment.name or ""), ContentFile(attachment.content))
            stored.keys.append(key)
            row.file.name = key
            row.size = len(attachment.content)
        rows.append(row)
    return LeadAttachment.objects.bulk_create(rows) if rows else []


def lead_attachment_fill(*, attachment_id: int, content: bytes | None, note: str = "") -> LeadAttachment | None:
    """Give a file that a channel announced (stored without content while a job downloads it) its
    content, or the note why it has none. Idempotent: a row that already has its file is left as
    it is (a job run twice stores once). None when the row is gone (the lead was deleted)."""
    stored = _StoredFiles()
    try:
        with transaction.atomic():
            row = LeadAttachment.objects.select_for_update().filter(pk=attachment_id).first()
            if row is None or row.file:
                return row
            if content is not None:
                key = default_storage.save(random_key("leads", row.name), ContentFile(content))
                stored.keys.append(key)
                row.file.name, row.size = key, len(content)
            row.note = (note or "")[:255]
            row.save(update_fields=["file", "size", "note"])
            return row
    except BaseException:
        stored.delete_all()
        raise


# --- Manual leads and edits ------------------------------------------------------------------------


@transaction.atomic
def lead_create_manual(*, data: dict, actor: User | None = None) -> Lead:
    """A lead entered by staff (source=manual). data: contact fields, text, client, operator."""
    contacts = sender_contacts(
        {
            "name": data.get("contact_name", ""),
            "phone": data.get("contact_phone", ""),
            "email": data.get("contact_email", ""),
            "telegram_id": data.get("contact_telegram", ""),
            "whatsapp_id": data.get("contact_whatsapp", ""),
        },
        strict=True,
    )
    lead = Lead(source=LeadSource.MANUAL, operator=data.get("operator") or actor, client=data.get("client"))
    _apply_contacts(lead, contacts, overwrite=True)
    if lead.client is None:
        lead.client = _find_client(contacts)  # staff typed the contacts: they are not a stranger's claim
    now = timezone.now()
    text = data.get("text") or ""
    lead.last_message_at = now if text else None
    lead.full_clean(exclude=["number"])
    lead.save()
    if text:
        LeadMessage.objects.create(
            lead=lead, channel=LeadSource.MANUAL, direction=MessageDirection.INCOMING, text=text, received_at=now
        )
    return lead


CONTACT_KEYS = ("contact_name", "contact_phone", "contact_email", "contact_telegram", "contact_whatsapp")


@transaction.atomic
def lead_update(*, lead: Lead, data: dict, actor: User | None = None) -> Lead:
    """Plain edits: responsible operator, linked client, the sender's contact data."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if "operator" in data:
        lead.operator = data["operator"]
    if "client" in data:
        lead.client = data["client"]
    if any(key in data for key in CONTACT_KEYS):
        merged = {key: data.get(key, getattr(lead, key)) for key in CONTACT_KEYS}
        contacts = sender_contacts(
            {
                "name": merged["contact_name"],
                "phone": merged["contact_phone"],
                "email": merged["contact_email"],
                "telegram_id": merged["contact_telegram"],
                "whatsapp_id": merged["contact_whatsapp"],
            },
            strict=True,
        )
        _apply_contacts(lead, contacts, overwrite=True)
    lead.full_clean(exclude=["number"])
    lead.save()
    return lead


# --- Suggestions: link the client, merge the duplicate (a person decides) ---------------------------


@transaction.atomic
def lead_link_client(*, lead: Lead, client=None, actor: User | None = None) -> Lead:
    """Link the lead to a client after a manager looked: the suggested one unless another is given."""
    lead = _locked(lead)
    client = client or lead.suggested_client
    if client is None:
        raise BusinessError(
            "Для заявки нет предложенного клиента: выберите клиента.",
            code="no_suggested_client",
            fields={"client": ["Выберите клиента."]},
        )
    lead.client = client
    lead.suggested_client = None
    lead.full_clean(exclude=["number"])
    lead.save()
    return lead


@transaction.atomic
def lead_merge_into(*, lead: Lead, target: Lead | None = None, actor: User | None = None) -> Lead:
    """Move a lead's messages and files into another open lead of the same person; returns that lead.

    After a manager's look at `possible_duplicate_of` (or another lead they chose). The merged lead
    is closed as rejected with a note naming the target; empty contact fields and the client of the
    target are filled from it. Both rows are locked in id order, as every multi-lead write does.
    """
    target_pk = target.pk if target is not None else lead.possible_duplicate_of_id
    if target_pk is None:
        raise BusinessError(
            "Для заявки не найден возможный дубль: укажите заявку, с которой объединить.",
            code="no_merge_target",
            fields={"target": ["Укажите заявку."]},
        )
    if target_pk == lead.pk:
        raise BusinessError(
            "Нельзя объединить заявку саму с собой.", code="merge_into_itself", fields={"target": ["Другая заявка."]}
        )
    rows = Lead.objects.select_for_update().filter(pk__in=[lead.pk, target_pk]).order_by("pk")
    locked = {row.pk: row for row in rows}
    if target_pk not in locked or lead.pk not in locked:
        raise BusinessError("Заявка не найдена.", code="not_found", fields={"target": ["Заявка не найдена."]})
    source, target = locked[lead.pk], locked[target_pk]
    for row in (source, target):
        if not row.is_open:
            raise ConflictError(
                f"Заявка {row.number} уже закрыта: объединять можно только открытые заявки.",
                code="lead_closed",
                status=row.status,
            )
    LeadMessage.objects.filter(lead=source).update(lead=target)
    LeadAttachment.objects.filter(lead=source).update(lead=target)
    Lead.objects.filter(possible_duplicate_of=source).exclude(pk=target.pk).update(possible_duplicate_of=target)
    for value_field, index_field, _kind in CONTACT_FIELDS:
        if not getattr(target, value_field) and getattr(source, value_field):
            setattr(target, value_field, getattr(source, value_field))
            setattr(target, index_field, getattr(source, index_field))
    target.contact_name = target.contact_name or source.contact_name
    if target.client_id is None:
        target.client_id = source.client_id
        if target.client_id is None and target.suggested_client_id is None:
            target.suggested_client_id = source.suggested_client_id
    if target.possible_duplicate_of_id == source.pk:
        target.possible_duplicate_of = None
    target.last_message_at = max(filter(None, [target.last_message_at, source.last_message_at]), default=None)
    target.operator_id = target.operator_id or source.operator_id
    target.full_clean(exclude=["number"])
    target.save()
    _move(source, LeadStatus.REJECTED)
    source.rejection_reason = f"Объединена с заявкой {target.number}."
    source.possible_duplicate_of = target
    source.save()
    return target


# --- Status transitions ----------------------------------------------------------------------------


def _locked(lead: Lead) -> Lead:
    return Lead.objects.select_for_update().get(pk=lead.pk)


def _move(lead: Lead, to_status: str) -> None:
    if to_status not in ALLOWED_TRANSITIONS[lead.status]:
        raise ConflictError(
            f"Нельзя перевести заявку из статуса «{LeadStatus(lead.status).label}» "
            f"в «{LeadStatus(to_status).label}».",
            code="invalid_transition",
            status=lead.status,
            allowed=sorted(ALLOWED_TRANSITIONS[lead.status]),
        )
    lead.status = to_status
    if to_status not in OPEN_STATUSES:
        lead.closed_at = timezone.now()


@transaction.atomic
def lead_take(*, lead: Lead, actor: User | None = None) -> Lead:
    """An operator takes the lead: new -> in_progress; they become responsible if nobody is."""
    lead = _locked(lead)
    _move(lead, LeadStatus.IN_PROGRESS)
    if lead.operator_id is None and actor is not None:
        lead.operator = actor
    lead.save()
    return lead


@transaction.atomic
def lead_reject(*, lead: Lead, reason: str, actor: User | None = None) -> Lead:
    reason = (reason or "").strip()
    if not reason:
        raise BusinessError(
            "Укажите причину отказа.", code="reason_required", fields={"reason": ["Обязательное поле."]}
        )
    lead = _locked(lead)
    _move(lead, LeadStatus.REJECTED)
    lead.rejection_reason = reason
    lead.save()
    return lead


@transaction.atomic
def lead_mark_converted(*, lead: Lead, order, actor: User | None = None) -> Lead:
    """Called by the orders app when it has made an order from the lead: links both and closes it."""
    lead = _locked(lead)
    if lead.status == LeadStatus.CONVERTED and lead.order_id == order.pk:
        return lead
    _move(lead, LeadStatus.CONVERTED)
    lead.order = order
    order_client_id = getattr(order, "client_id", None)
    if lead.client_id is None and order_client_id:
        lead.client_id = order_client_id
    if lead.operator_id is None and actor is not None:
        lead.operator = actor
    lead.save()
    return lead


@transaction.atomic
def lead_delete(*, lead: Lead, actor: User | None = None) -> None:
    """Delete a lead with its messages; its files leave object storage after the commit."""
    keys = [key for key in lead.attachments.values_list("file", flat=True) if key]
    lead.delete()
    transaction.on_commit(lambda: _StoredFiles(keys=keys).delete_all())
