"""152-FZ subject requests: everything held about a client, and its anonymisation.

- subject_export: a JSON dict of all personal data held about a client (and ?format=zip adds the
  files), recorded in the audit log and the access log.
- client_anonymize: erases the person's data everywhere but keeps the books (orders, services,
  payments, documents' rows and figures), removes blind indexes so they are not found again,
  and writes a destruction record (Акт об уничтожении ПДн).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.models import DestructionRecord
from apps.audit.selectors import access_log_for_client
from apps.clients.consents import consent_to_dict, consents_of_client
from apps.clients.models import Client, ClientContact, ClientFile, ClientPassport, Consent
from apps.core import access
from apps.core.auditing import audit_event
from apps.core.erasure import run_subject_erasers
from apps.core.errors import BusinessError, ConflictError
from apps.documents.models import Document
from apps.finance.models import Payment
from apps.leads.models import Lead, LeadAttachment, LeadMessage
from apps.orders.models import Order, OrderStatus

ANONYMIZED_LAST_NAME = "Клиент удалён (152-ФЗ)"
ORDERS_IN_PROGRESS = (OrderStatus.DRAFT, OrderStatus.CONFIRMED, OrderStatus.PAID)
REDACTED = "[удалено]"
NAME_FIELDS = ("last_name", "first_name", "middle_name", "last_name_latin", "first_name_latin", "notes", "birth_date")


def anonymized_label(client_id: int) -> str:
    return f"{ANONYMIZED_LAST_NAME} #{client_id}"


# --- Subject export ---------------------------------------------------------------------------------


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _client_orders(client: Client):
    return (
        Order.objects.filter(Q(client=client) | Q(travellers=client) | Q(services__travellers=client))
        .distinct()
        .order_by("id")
    )


def _lead_dict(lead: Lead) -> dict:
    return {
        "id": lead.id, "number": lead.number, "source": lead.source, "status": lead.status,
        "created_at": _iso(lead.created_at),
        "sender": {"name": lead.contact_name, "phone": lead.contact_phone, "email": lead.contact_email,
                   "telegram": lead.contact_telegram, "whatsapp": lead.contact_whatsapp},
        "messages": [
            {"id": m.id, "channel": m.channel, "direction": m.direction, "received_at": _iso(m.received_at),
             "text": m.text}
            for m in lead.messages.all()
        ],
        "attachments": [
            {"id": a.id, "name": a.name, "content_type": a.content_type, "size": a.size} for a in lead.attachments.all()
        ],
    }


def _order_dict(order: Order, client_id: int) -> dict:
    travellers = {t.id for t in order.travellers.all()}
    role = "client" if order.client_id == client_id else "traveller"
    return {
        "id": order.id, "number": order.number, "status": order.status, "role": role,
        "is_traveller": client_id in travellers, "currency": order.currency,
        "total_amount": str(order.total_amount), "paid_amount": str(order.paid_amount),
        "created_at": _iso(order.created_at),
        "services": [
            {"id": s.id, "type": s.type, "status": s.status, "start": _iso(s.start_dt), "end": _iso(s.end_dt),
             "origin": s.origin, "destination": s.destination, "city": s.city,
             "price": str(s.price), "currency": s.currency}
            for s in order.services.all()
            if client_id in {t.id for t in s.travellers.all()} or order.client_id == client_id
        ],
    }


def subject_data(client: Client) -> dict:
    """Everything held about the person, as plain JSON-ready data (a constant number of queries)."""
    client = Client.all_objects.prefetch_related("contacts", "passports", "files").get(pk=client.pk)
    card = _client_card(client)
    leads = list(Lead.objects.filter(client=client).prefetch_related("messages", "attachments").order_by("id"))
    orders = list(_client_orders(client).prefetch_related("travellers", "services__travellers"))
    order_ids = [order.id for order in orders]
    payments = Payment.objects.filter(Q(payer_client=client)).select_related("order").order_by("date", "id")
    documents = Document.objects.filter(order_id__in=order_ids).select_related("order").order_by("id")
    return {
        "generated_at": timezone.now().isoformat(),
        "client": card,
        "files": [
            {"id": f.id, "name": f.original_name, "content_type": f.content_type, "size": f.size,
             "created_at": _iso(f.created_at)}
            for f in client.files.all()
        ],
        "consents": [consent_to_dict(c) for c in consents_of_client(client.id, [lead.id for lead in leads])],
        "leads": [_lead_dict(lead) for lead in leads],
        "orders": [_order_dict(order, client.id) for order in orders],
        "payments": [
            {"id": p.id, "order": p.order.number, "type": p.type, "method": p.method, "amount": str(p.amount),
             "currency": p.currency, "date": _iso(p.date)}
            for p in payments
        ],
        "documents": [
            {"id": d.id, "order": d.order.number, "type": d.type, "number": d.number, "version": d.version,
             "status": d.status, "generated_at": _iso(d.generated_at), "has_file": bool(d.file)}
            for d in documents
        ],
        "access_log": [
            {"at": _iso(e.at), "user": e.user.email if e.user else None, "endpoint": e.endpoint,
             "method": e.method, "categories": e.categories}
            for e in access_log_for_client(client.id)[:1000]
        ],
    }


def _client_card(client: Client) -> dict:
    """The client's own fields, contacts and passports (archived ones too: they are held as well)."""
    return {
        "id": client.id, "last_name": client.last_name, "first_name": client.first_name,
        "middle_name": client.middle_name, "last_name_latin": client.last_name_latin,
        "first_name_latin": client.first_name_latin, "birth_date": _iso(client.birth_date),
        "citizenship": client.citizenship, "notes": client.notes, "created_at": _iso(client.created_at),
        "contacts": [
            {"id": c.id, "kind": c.kind, "value": c.value, "is_primary": c.is_primary, "is_archived": c.is_archived}
            for c in client.contacts.all()
        ],
        "passports": [
            {"id": p.id, "kind": p.kind, "series": p.series, "number": p.number, "issue_date": _iso(p.issue_date),
             "expiry_date": _iso(p.expiry_date), "issued_by": p.issued_by, "is_active": p.is_active,
             "is_archived": p.is_archived}
            for p in client.passports.all()
        ],
    }


def subject_export(*, client: Client, actor: User) -> dict:
    data = subject_data(client)
    audit_event(event="subject_export", target=client, actor=actor, data={"format": "json"})
    access.note_personal_data_access((client.id,), access.CLIENT_CARD_CATEGORIES, channel="subject_export")
    return data


ZIP_READ_CHUNK = 256 * 1024


def subject_export_zip(*, client: Client, actor: User) -> Iterator[bytes]:
    """personal-data.json and every file held, as a zip made while it is sent: an iterator of bytes.

    The reads (the data, the list of files), the audit event and the access-log entry happen now, in
    the request; the archive is written into a pipe as the response is consumed, each stored file
    decrypted and compressed chunk by chunk — memory stays constant whatever the files' size, and
    nothing is spooled to disk.
    """
    data = subject_data(client)
    files = _files_of(client.id)
    audit_event(event="subject_export", target=client, actor=actor, data={"format": "zip"})
    access.note_personal_data_access((client.id,), access.CLIENT_CARD_CATEGORIES, channel="subject_export")
    return _zip_stream(json.dumps(data, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder), files)


class _Pipe(io.RawIOBase):
    """The write end zipfile writes into (not seekable: zipfile then uses data descriptors); the
    generator takes what was written since the last take."""

    def __init__(self):
        super().__init__()
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


def _zip_stream(document: str, files: list[tuple[str, str]]) -> Iterator[bytes]:
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("personal-data.json", document)
        for name, key in files:
            with archive.open(name, "w") as target, open_stored(key) as source:
                for chunk in iter(lambda: source.read(ZIP_READ_CHUNK), b""):
                    target.write(chunk)
                    if out := pipe.take():
                        yield out
            if out := pipe.take():
                yield out
    yield pipe.take()  # the central directory


def open_stored(key: str):
    """Open a stored object for reading (decrypting when it is encrypted)."""
    return default_storage.open(key, "rb")


def _files_of(client_id: int) -> list[tuple[str, str]]:
    files = [
        (f"files/{f.id}-{_safe(f.original_name)}", str(f.file.name))
        for f in ClientFile.objects.filter(client_id=client_id) if f.file
    ]
    files += [
        (f"leads/{a.lead_id}/{a.id}-{_safe(a.name)}", str(a.file.name))
        for a in LeadAttachment.objects.filter(lead__client_id=client_id) if a.file
    ]
    return files


def _safe(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "._- " else "_" for ch in (name or "file"))
    return cleaned.strip()[:100] or "file"


# --- Anonymisation ----------------------------------------------------------------------------------


@dataclass
class _Erased:
    counts: dict[str, int] = field(default_factory=dict)
    storage_keys: list[str] = field(default_factory=list)

    def add(self, key: str, count: int) -> None:
        if count:
            self.counts[key] = self.counts.get(key, 0) + count


def _refuse_if_in_progress(client: Client, force: bool) -> None:
    busy = list(
        _client_orders(client).filter(status__in=ORDERS_IN_PROGRESS).values_list("number", flat=True)[:20]
    )
    if busy and not force:
        raise ConflictError(
            "У клиента есть заказы в работе. Обезличивание невозможно отменить; "
            "подтвердите его параметром force=true.",
            code="orders_in_progress", orders=busy,
        )


@transaction.atomic
def client_anonymize(*, client: Client, actor: User, reason: str, force: bool = False) -> DestructionRecord:
    """Erase the client's personal data for good, keep the financial records."""
    reason = (reason or "").strip()
    if not reason:
        raise BusinessError("Укажите причину уничтожения персональных данных.", code="reason_required",
                            fields={"reason": ["Обязательное поле."]})
    client = Client.all_objects.select_for_update().get(pk=client.pk)
    if DestructionRecord.objects.filter(client_id=client.pk).exists():
        raise ConflictError("Данные этого клиента уже обезличены.", code="already_anonymized")
    _refuse_if_in_progress(client, force)
    erased = _Erased()
    _erase_consent_evidence(client, erased)  # first: sender consents are found through the contacts
    child_entries = _erase_client_rows(client, erased)
    lead_ids = _erase_leads(client, erased)
    _erase_documents(client, erased)
    for key, count in run_subject_erasers(client_id=client.pk, lead_ids=lead_ids).items():
        erased.add(key, count)
    _scrub_audit_log(client, child_entries)
    record = DestructionRecord.objects.create(
        client_id=client.pk, subject_label=anonymized_label(client.pk), performed_by=actor,
        performed_by_name=_actor_name(actor), reason=reason[:2000],
        categories=_categories(erased.counts), details=erased.counts,
    )
    audit_event(event="anonymize", target=client, actor=actor, repr_text=anonymized_label(client.pk),
                data={"record": record.pk, "categories": record.categories, "forced": force})
    keys = list(erased.storage_keys)
    transaction.on_commit(lambda: _delete_objects(keys))
    return record


def _actor_name(actor) -> str:
    role = actor.get_role_display() if hasattr(actor, "get_role_display") else ""
    return f"{actor.full_name or actor.email}, {role}".strip(", ")[:300]


def _erase_client_rows(client: Client, erased: _Erased) -> dict[type[models.Model], list[str]]:
    contacts = ClientContact.objects.filter(client=client)
    passports = ClientPassport.objects.filter(client=client)
    files = ClientFile.objects.filter(client=client)
    entries = {
        ClientContact: [str(pk) for pk in contacts.values_list("pk", flat=True)],
        ClientPassport: [str(pk) for pk in passports.values_list("pk", flat=True)],
        ClientFile: [str(pk) for pk in files.values_list("pk", flat=True)],
    }
    erased.storage_keys += [name for name in files.values_list("file", flat=True) if name]
    erased.add("contacts", contacts.delete()[0])
    erased.add("passports", passports.delete()[0])
    erased.add("files", files.delete()[0])
    erased.add("client_card", 1)
    now = timezone.now()
    Client.all_objects.filter(pk=client.pk).update(
        last_name=ANONYMIZED_LAST_NAME, first_name=f"#{client.pk}", middle_name="", last_name_latin="",
        first_name_latin="", birth_date=None, notes="", citizenship="",
        search_name="", is_deleted=True, deleted_at=client.deleted_at or now, updated_at=now,
    )
    return entries


def _erase_leads(client: Client, erased: _Erased) -> list[int]:
    leads = Lead.objects.filter(client=client)
    lead_ids = list(leads.values_list("pk", flat=True))
    if not lead_ids:
        return []
    erased.add("lead_contacts", leads.update(
        payload={}, contact_name="", contact_phone="", contact_email="", contact_telegram="", contact_whatsapp="",
        phone_index="", email_index="", telegram_index="", whatsapp_index="",
    ))
    erased.add("lead_messages", LeadMessage.objects.filter(lead_id__in=lead_ids).update(text="", payload={}))
    attachments = LeadAttachment.objects.filter(lead_id__in=lead_ids)
    erased.storage_keys += [name for name in attachments.values_list("file", flat=True) if name]
    erased.add("lead_attachments", attachments.delete()[0])
    return lead_ids


def _erase_documents(client: Client, erased: _Erased) -> None:
    """PDFs of the client's orders carry their name and passport: the files go, the rows stay."""
    documents = Document.objects.filter(order__in=_client_orders(client).values("pk")).exclude(file="")
    erased.storage_keys += list(documents.values_list("file", flat=True))
    erased.add("document_files", documents.update(file=""))


def _erase_consent_evidence(client: Client, erased: _Erased) -> None:
    """Consents stay as proof of the lawful basis (dates, purposes, text); the evidence that names the
    person (address, browser, message id, the signed scan) goes."""
    consents = consents_of_client(client.id, list(Lead.objects.filter(client=client).values_list("pk", flat=True)))
    erased.storage_keys += [name for name in consents.exclude(scan="").values_list("scan", flat=True)]
    pks = list(consents.values_list("pk", flat=True))
    Consent.objects.filter(pk__in=pks, withdrawn_at__isnull=True).update(withdrawn_at=timezone.now())
    erased.add("consents", Consent.objects.filter(pk__in=pks).update(
        client=client, subject_index="", subject_value="", evidence_ip=None, evidence_user_agent="",
        evidence_message_id="", scan="",
    ))


def _scrub_audit_log(client: Client, child_entries: dict[type[models.Model], list[str]]) -> None:
    """The audit log keeps that things happened, not the person's names (values are masked already)."""
    label = anonymized_label(client.pk)
    client_type = ContentType.objects.get_for_model(Client)
    for entry in LogEntry.objects.filter(content_type=client_type, object_pk=str(client.pk)):
        changes = entry.changes_dict or {}
        for name in NAME_FIELDS:
            if name in changes:
                changes[name] = [REDACTED, REDACTED]
        LogEntry.objects.filter(pk=entry.pk).update(
            object_repr=label, changes=changes, changes_text="", serialized_data=None
        )
    for model, pks in child_entries.items():
        if pks:
            LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model), object_pk__in=pks).update(
                object_repr=f"{model._meta.verbose_name} ({label})", serialized_data=None
            )


def _categories(counts: dict[str, int]) -> list[str]:
    labels = {
        "client_card": "ФИО, дата рождения, гражданство, заметки",
        "contacts": "телефоны, e-mail, мессенджеры",
        "passports": "паспортные данные",
        "files": "сканы документов",
        "lead_contacts": "контактные данные в заявках",
        "lead_messages": "переписка",
        "lead_attachments": "вложения переписки",
        "document_files": "сформированные документы (PDF)",
        "inbox_payloads": "исходные входящие сообщения",
        "consents": "согласия на обработку ПДн",
    }
    return [labels.get(key, key) for key in counts]


def _delete_objects(keys: list[str]) -> None:
    for key in keys:
        default_storage.delete(key)
