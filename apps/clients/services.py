"""Every write to clients: create (with dedup), update, soft delete, merge, contacts, passports, files.

Business rules live here so the API, the admin and the imports behave the same. The database has
the last word on duplicates (partial unique constraints over blind indexes); a violation that slips
past the pre-check (a concurrent create) is turned into the same 409 duplicate_client.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.clients.models import (
    Client,
    ClientContact,
    ClientFile,
    ClientPassport,
    ContactKind,
    PassportKind,
)
from apps.clients.normalization import (
    contact_index,
    contact_index_candidates,
    normalize_contact,
    passport_index,
    passport_index_candidates,
    passport_normalised,
)
from apps.clients.references import move_references
from apps.clients.selectors import client_duplicates
from apps.core.errors import BusinessError, ConflictError
from apps.core.files import OCTET_STREAM, normalise_declared, sniff_file
from apps.core.storage import random_key

logger = logging.getLogger("travelcrm.clients")

DUPLICATE_CONSTRAINTS = {"client_contact_unique_live", "client_passport_unique_live"}
CLIENT_FIELDS = (
    "last_name", "first_name", "middle_name", "last_name_latin", "first_name_latin",
    "birth_date", "citizenship", "notes", "operator",
)
DUPLICATE_DETAIL = "Клиент с такими контактными данными или документом уже есть."
# Scans of documents a client file may be (checked against the file's bytes by apps.core.files).
CLIENT_FILE_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "image/webp", "image/heic", "image/tiff"})


# --- Input preparation -------------------------------------------------------------------------------


@dataclass
class PreparedContact:
    kind: str
    value: str
    index: str
    is_primary: bool = False


@dataclass
class PreparedPassport:
    kind: str
    series: str
    number: str
    index: str
    issue_date: dt.date | None = None
    expiry_date: dt.date | None = None
    issued_by: str = ""
    is_active: bool = True


@dataclass
class Prepared:
    contacts: dict[str, list[PreparedContact]] = field(default_factory=dict)  # kind -> contacts
    passports: list[PreparedPassport] | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    def lookup_kwargs(self) -> dict:
        by_kind = {kind: [c.value for c in contacts] for kind, contacts in self.contacts.items()}
        return {
            "phones": by_kind.get("phone", []),
            "emails": by_kind.get("email", []),
            "telegram_ids": by_kind.get("telegram", []),
            "whatsapp_ids": by_kind.get("whatsapp", []),
            "passports": [p.series + p.number for p in self.passports or []],
        }


def parse_date(value, field_name: str) -> dt.date | None:
    """date, ISO "YYYY-MM-DD" or Russian "ДД.ММ.ГГГГ"; empty → None; anything else → ValidationError."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a calendar date, no time)
        except ValueError:
            continue
    raise ValidationError({field_name: [f"Некорректная дата: «{text[:20]}». Формат ГГГГ-ММ-ДД или ДД.ММ.ГГГГ."]})


_KIND_LIST_KEYS = {"phones": "phone", "emails": "email", "telegram": "telegram", "whatsapp": "whatsapp"}


def _prepare_contacts(data: Mapping[str, Any], prepared: Prepared) -> None:
    """phones / emails / telegram / whatsapp lists of strings, and/or contacts: [{kind, value, is_primary}]."""
    raw: dict[str, list[tuple[str, bool, str]]] = {}
    for key, kind in _KIND_LIST_KEYS.items():
        if key in data and data[key] is not None:
            raw.setdefault(kind, [])
            for position, value in enumerate(data[key]):
                raw[kind].append((value, False, f"{key}.{position}"))
    for position, item in enumerate(data.get("contacts") or []):
        kind = item.get("kind")
        raw.setdefault(kind, []).append((item.get("value"), bool(item.get("is_primary")), f"contacts.{position}.value"))
    for kind, items in raw.items():
        prepared.contacts[kind] = []
        seen: set[str] = set()
        for value, is_primary, error_key in items:
            try:
                normalised = normalize_contact(kind, value)
            except ValidationError as error:
                prepared.errors.setdefault(error_key, []).extend(error.messages)
                continue
            index = contact_index(kind, normalised)
            if index in seen:
                continue
            seen.add(index)
            prepared.contacts[kind].append(PreparedContact(kind, normalised, index, is_primary))
        if prepared.contacts[kind] and not any(c.is_primary for c in prepared.contacts[kind]):
            prepared.contacts[kind][0].is_primary = True


def _is_internal_passport(series: str, number: str) -> bool:
    return series.isdigit() and len(series) == 4 and number.isdigit() and len(number) == 6


class ContactData(TypedDict, total=False):
    kind: str
    value: str
    is_primary: bool


class PassportData(TypedDict, total=False):
    """A document: passport_add / passport_update, and each item of ClientData["passports"]."""

    kind: str
    series: str
    number: str
    issue_date: dt.date | str | None
    expiry_date: dt.date | str | None
    issued_by: str
    is_active: bool


class ClientData(TypedDict, total=False):
    """What client_create / client_update take (dates may come as ISO text)."""

    last_name: str
    first_name: str
    middle_name: str
    last_name_latin: str
    first_name_latin: str
    birth_date: dt.date | str | None
    citizenship: str
    notes: str
    operator: User | None
    phones: list[str]
    emails: list[str]
    telegram: list[str]
    whatsapp: list[str]
    contacts: list[ContactData]
    passports: list[PassportData]


def prepare_passport(item: Mapping[str, Any], error_prefix: str = "passport") -> tuple[PreparedPassport | None, dict]:
    errors: dict[str, list[str]] = {}
    kind = item.get("kind") or PassportKind.INTERNAL
    if kind not in PassportKind.values:
        errors[f"{error_prefix}.kind"] = [f"Неизвестный вид документа: «{kind}»."]
    series = "".join(str(item.get("series") or "").split()).upper()
    number = "".join(str(item.get("number") or "").split()).upper()
    normalised = ""
    try:
        normalised = passport_normalised(series, number)
    except ValidationError as error:
        errors[f"{error_prefix}.number"] = error.messages
    if not number:
        errors[f"{error_prefix}.number"] = ["Укажите номер документа."]
    elif kind == PassportKind.INTERNAL and not _is_internal_passport(series, number):
        errors[f"{error_prefix}.number"] = ["Паспорт РФ: серия — 4 цифры, номер — 6 цифр."]
    dates: dict[str, dt.date | None] = {}
    for name in ("issue_date", "expiry_date"):
        try:
            dates[name] = parse_date(item.get(name), name)
        except ValidationError as error:
            errors[f"{error_prefix}.{name}"] = error.message_dict[name]
    issued, expires = dates.get("issue_date"), dates.get("expiry_date")
    if issued and issued > timezone.localdate():
        errors[f"{error_prefix}.issue_date"] = ["Дата выдачи не может быть в будущем."]
    if issued and expires and expires < issued:
        errors[f"{error_prefix}.expiry_date"] = ["Срок действия не может заканчиваться раньше даты выдачи."]
    if errors:
        return None, errors
    return PreparedPassport(
        kind=kind, series=series, number=number, index=passport_index(normalised),
        issue_date=dates["issue_date"], expiry_date=dates["expiry_date"],
        issued_by=str(item.get("issued_by") or "").strip(),
        is_active=item.get("is_active", True) is not False,
    ), {}


def _prepare(data: Mapping[str, Any]) -> Prepared:
    prepared = Prepared()
    _prepare_contacts(data, prepared)
    if data.get("passports") is not None:
        prepared.passports = []
        seen: set[str] = set()
        for position, item in enumerate(data["passports"]):
            passport, errors = prepare_passport(item or {}, f"passports.{position}")
            prepared.errors.update(errors)
            if passport and passport.index not in seen:
                seen.add(passport.index)
                prepared.passports.append(passport)
    return prepared


def _client_values(data: Mapping[str, Any]) -> dict:
    values = {name: data[name] for name in CLIENT_FIELDS if name in data}
    if "birth_date" in values:
        values["birth_date"] = parse_date(values["birth_date"], "birth_date")
    for name in ("last_name", "first_name", "middle_name", "last_name_latin", "first_name_latin", "notes"):
        if name in values:
            values[name] = (values[name] or "").strip()
    if "citizenship" in values:
        values["citizenship"] = (values["citizenship"] or "").strip().upper()
    return values


def _raise_if_errors(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _full_clean(instance, exclude=None) -> None:
    instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)


def _is_duplicate_violation(error: IntegrityError) -> bool:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) in DUPLICATE_CONSTRAINTS


def _audit(instance, *, event: str, data: dict, actor: User | None = None) -> None:
    """An explicit audit entry for writes that bypass model signals (queryset updates). No PD in data."""
    from auditlog.models import LogEntry

    extra = {"actor": actor} if getattr(actor, "is_authenticated", False) else {}
    LogEntry.objects.log_create(
        instance, force_log=True, action=LogEntry.Action.UPDATE,
        changes={"event": [None, event]}, additional_data=data, **extra,
    )


def _duplicate_error(matches: list[dict]) -> ConflictError:
    return ConflictError(DUPLICATE_DETAIL, code="duplicate_client", matches=matches)


# --- Client ------------------------------------------------------------------------------------------


def client_create(*, data: ClientData, actor: User | None = None, on_duplicate: str = "error") -> Client:
    """Create a client with contacts and passports, refusing duplicates.

    data: last_name, first_name, middle_name, last_name_latin, first_name_latin, birth_date,
    citizenship, notes, operator; phones / emails / telegram / whatsapp (lists of strings) and/or
    contacts [{kind, value, is_primary}]; passports [{kind, series, number, issue_date,
    expiry_date, issued_by, is_active}].
    on_duplicate="error" raises ConflictError(code="duplicate_client", matches=[...]) and writes
    nothing; "link" returns the best-matching existing client unchanged (client.linked = True).
    """
    if on_duplicate not in ("error", "link"):
        raise BusinessError("on_duplicate: допустимы значения error и link.", code="invalid_on_duplicate")
    values = _client_values(data)
    prepared = _prepare(data)
    _raise_if_errors(prepared.errors)
    if values.get("operator") is None and getattr(actor, "is_authenticated", False):
        # The responsible operator defaults to whoever creates the client.
        values["operator"] = actor

    matches = client_duplicates(**prepared.lookup_kwargs())
    if matches:
        return _on_duplicate(matches, on_duplicate)
    try:
        with transaction.atomic():
            client = Client(**values)
            _full_clean(client)
            client.save()
            _write_contacts(client, prepared)
            _write_passports(client, prepared.passports or [])
    except IntegrityError as error:
        if not _is_duplicate_violation(error):
            raise
        # A concurrent request took the value between our check and our insert.
        matches = client_duplicates(**prepared.lookup_kwargs())
        return _on_duplicate(matches, on_duplicate)
    client.linked = False
    return client


def _on_duplicate(matches: list[dict], on_duplicate: str) -> Client:
    if on_duplicate == "link" and matches:
        client = Client.objects.get(pk=matches[0]["id"])
        client.linked = True
        client.matches = matches
        return client
    raise _duplicate_error(matches)


def _write_contacts(client: Client, prepared: Prepared) -> None:
    # One save per row (not bulk_create) so django-auditlog records each contact.
    for contacts in prepared.contacts.values():
        for c in contacts:
            ClientContact.objects.create(
                client=client, kind=c.kind, value=c.value, blind_index=c.index, is_primary=c.is_primary
            )


def _passport_values(passport: PreparedPassport) -> dict:
    return {
        "kind": passport.kind, "series": passport.series, "number": passport.number,
        "number_index": passport.index, "issue_date": passport.issue_date,
        "expiry_date": passport.expiry_date, "issued_by": passport.issued_by, "is_active": passport.is_active,
    }


def _write_passports(client: Client, passports: Iterable[PreparedPassport]) -> None:
    for passport in passports:
        ClientPassport.objects.create(client=client, **_passport_values(passport))


def client_update(*, client: Client, data: ClientData, actor: User | None = None) -> Client:
    """Update fields; phones / emails / telegram / whatsapp lists replace that kind of contacts;
    passports are upserted by series+number (omitted ones stay: passports are history —
    remove them through the passports endpoint). Duplicates with other clients → 409."""
    values = _client_values(data)
    prepared = _prepare(data)
    _raise_if_errors(prepared.errors)
    matches = client_duplicates(**prepared.lookup_kwargs(), exclude_client_id=client.pk)
    if matches:
        raise _duplicate_error(matches)
    try:
        with transaction.atomic():
            client = Client.objects.select_for_update().get(pk=client.pk)
            for name, value in values.items():
                setattr(client, name, value)
            _full_clean(client)
            client.save()
            for kind, contacts in prepared.contacts.items():
                _replace_contacts(client, kind, contacts)
            for passport in prepared.passports or []:
                _upsert_passport(client, passport)
    except IntegrityError as error:
        if not _is_duplicate_violation(error):
            raise
        raise _duplicate_error(client_duplicates(**prepared.lookup_kwargs(), exclude_client_id=client.pk)) from None
    return client


def _replace_contacts(client: Client, kind: str, contacts: list[PreparedContact]) -> None:
    existing = {c.blind_index: c for c in client.contacts.filter(kind=kind, is_archived=False)}
    wanted = {c.index: c for c in contacts}
    _reindex_rotated(existing, {index: contact_index_candidates(kind, c.value) for index, c in wanted.items()})
    for index, contact in existing.items():
        if index not in wanted:
            contact.delete()
    for index, item in wanted.items():
        current = existing.get(index)
        if current is None:
            ClientContact.objects.create(
                client=client, kind=kind, value=item.value, blind_index=index, is_primary=item.is_primary
            )
        elif current.is_primary != item.is_primary:
            current.is_primary = item.is_primary
            current.save(update_fields=["is_primary"])


def _reindex_rotated(existing: dict, candidates: dict[str, list[str]]) -> None:
    """While BLIND_INDEX_KEY is rotated a stored contact may still carry the old key's index: key it
    (and save it) under the new one, so it is kept rather than deleted and added again."""
    for index, accepted in candidates.items():
        old = next((other for other in accepted[1:] if other in existing and other not in candidates), None)
        if index not in existing and old is not None:
            contact = existing.pop(old)
            contact.blind_index = index
            contact.save(update_fields=["blind_index"])
            existing[index] = contact


def _passport_indexes(passport: PreparedPassport) -> list[str]:
    """The passport's index and, while BLIND_INDEX_KEY is rotated, the old key's."""
    return list(dict.fromkeys([passport.index, *passport_index_candidates(
        passport_normalised(passport.series, passport.number))]))


def _upsert_passport(client: Client, passport: PreparedPassport) -> ClientPassport:
    current = client.passports.filter(number_index__in=_passport_indexes(passport), is_archived=False).first()
    if current is None:
        return ClientPassport.objects.create(client=client, **_passport_values(passport))
    for name, value in _passport_values(passport).items():
        setattr(current, name, value)
    current.save()
    return current


@transaction.atomic
def client_soft_delete(*, client: Client, actor: User | None = None) -> None:
    """Hide the client; its contacts and passports are archived so they stop blocking new clients."""
    client = Client.all_objects.select_for_update().get(pk=client.pk)
    if client.is_deleted:
        return
    client.is_deleted = True
    client.deleted_at = timezone.now()
    client.save(update_fields=["is_deleted", "deleted_at", "updated_at"])
    contacts = ClientContact.objects.filter(client=client).update(is_archived=True)
    passports = ClientPassport.objects.filter(client=client).update(is_archived=True)
    _audit(client, event="soft_deleted", data={"archived_contacts": contacts, "archived_passports": passports},
           actor=actor)


@transaction.atomic
def client_merge(*, target: Client, other: Client, actor: User | None = None) -> Client:
    """Move other's contacts (without duplicates), passports, files and every registered reference
    onto target, fill target's empty fields from other, then soft-delete other (merged_into=target)."""
    if target.pk == other.pk:
        raise BusinessError("Нельзя объединить клиента с самим собой.", code="merge_self")
    locked = {c.pk: c for c in Client.objects.select_for_update().filter(pk__in=[target.pk, other.pk]).order_by("pk")}
    if target.pk not in locked or other.pk not in locked:
        raise BusinessError("Клиент для объединения не найден или удалён.", code="merge_not_found")
    target, other = locked[target.pk], locked[other.pk]

    _merge_contacts(target, other)
    _merge_passports(target, other)
    files = ClientFile.objects.filter(client=other).update(client=target)
    moved = move_references(source_id=other.pk, target_id=target.pk)
    _fill_empty_fields(target, other)
    other.is_deleted = True
    other.deleted_at = timezone.now()
    other.merged_into = target
    other.save(update_fields=["is_deleted", "deleted_at", "merged_into", "updated_at"])
    _audit(target, event="merged", data={"merged_client_id": other.pk, "files": files, "references": moved},
           actor=actor)
    logger.info("clients merged", extra={"target_id": target.pk, "other_id": other.pk, "moved": moved})
    return target


def _merge_contacts(target: Client, other: Client) -> None:
    taken = set(target.contacts.filter(is_archived=False).values_list("kind", "blind_index"))
    has_primary = set(target.contacts.filter(is_archived=False, is_primary=True).values_list("kind", flat=True))
    for contact in other.contacts.filter(is_archived=False):
        if (contact.kind, contact.blind_index) in taken:
            contact.delete()
            continue
        contact.client = target
        contact.is_primary = contact.is_primary and contact.kind not in has_primary
        contact.save(update_fields=["client", "is_primary"])
        taken.add((contact.kind, contact.blind_index))


def _merge_passports(target: Client, other: Client) -> None:
    taken = set(target.passports.filter(is_archived=False).values_list("number_index", flat=True))
    for passport in other.passports.filter(is_archived=False):
        if passport.number_index in taken:
            passport.delete()
            continue
        passport.client = target
        passport.save(update_fields=["client"])
    ClientPassport.objects.filter(client=other, is_archived=True).update(client=target)


def _fill_empty_fields(target: Client, other: Client) -> None:
    changed = []
    for name in ("middle_name", "last_name_latin", "first_name_latin", "birth_date", "citizenship", "operator_id"):
        if not getattr(target, name) and getattr(other, name):
            setattr(target, name, getattr(other, name))
            changed.append(name)
    if other.notes and other.notes not in target.notes:
        target.notes = f"{target.notes}\n{other.notes}".strip()
        changed.append("notes")
    if changed:
        target.save()


# --- Contacts ----------------------------------------------------------------------------------------


def contact_add(
    *, client: Client, kind: str, value: str, is_primary: bool = False, actor: User | None = None
) -> ClientContact:
    normalised = _normalise_field(kind, value)
    index = contact_index(kind, normalised)
    _refuse_contact_duplicate(client, kind, normalised)
    try:
        with transaction.atomic():
            if is_primary or not client.contacts.filter(kind=kind, is_archived=False).exists():
                client.contacts.filter(kind=kind, is_primary=True).update(is_primary=False)
                is_primary = True
            return ClientContact.objects.create(
                client=client, kind=kind, value=normalised, blind_index=index, is_primary=is_primary
            )
    except IntegrityError as error:
        if not _is_duplicate_violation(error):
            raise
        _refuse_contact_duplicate(client, kind, normalised)
        raise BusinessError("У клиента уже есть такой контакт.", code="duplicate_contact") from None


def contact_update(*, contact: ClientContact, value: str | None = None, is_primary: bool | None = None,
                   actor: User | None = None) -> ClientContact:
    try:
        with transaction.atomic():
            if value is not None:
                normalised = _normalise_field(contact.kind, value)
                _refuse_contact_duplicate(contact.client, contact.kind, normalised, exclude_contact_id=contact.pk)
                contact.value = normalised
                contact.blind_index = contact_index(contact.kind, normalised)
            if is_primary:
                contact.client.contacts.filter(kind=contact.kind, is_primary=True).exclude(pk=contact.pk).update(
                    is_primary=False
                )
            if is_primary is not None:
                contact.is_primary = is_primary
            contact.save()
            return contact
    except IntegrityError as error:
        if not _is_duplicate_violation(error):
            raise
        raise _duplicate_error(client_duplicates(**{_lookup_key(contact.kind): [contact.value]},
                                                 exclude_client_id=contact.client_id)) from None


@transaction.atomic
def contact_delete(*, contact: ClientContact, actor: User | None = None) -> None:
    client, kind, was_primary = contact.client, contact.kind, contact.is_primary
    contact.delete()
    if was_primary:
        successor = client.contacts.filter(kind=kind, is_archived=False).order_by("id").first()
        if successor:
            successor.is_primary = True
            successor.save(update_fields=["is_primary"])


def _lookup_key(kind: str) -> str:
    return {"phone": "phones", "email": "emails", "telegram": "telegram_ids", "whatsapp": "whatsapp_ids"}[kind]


def _normalise_field(kind: str, value: str) -> str:
    if kind not in ContactKind.values:
        raise ValidationError({"kind": [f"Неизвестный тип контакта: «{kind}»."]})
    try:
        return normalize_contact(kind, value)
    except ValidationError as error:
        raise ValidationError({"value": error.messages}) from None


def _refuse_contact_duplicate(
    client: Client, kind: str, normalised: str, exclude_contact_id: int | None = None
) -> None:
    own = client.contacts.filter(
        kind=kind, blind_index__in=contact_index_candidates(kind, normalised), is_archived=False)
    if exclude_contact_id:
        own = own.exclude(pk=exclude_contact_id)
    if own.exists():
        raise BusinessError(
            "У клиента уже есть такой контакт.", code="duplicate_contact",
            fields={"value": ["Такой контакт уже есть у этого клиента."]},
        )
    matches = client_duplicates(**{_lookup_key(kind): [normalised]}, exclude_client_id=client.pk)
    if matches:
        raise _duplicate_error(matches)


# --- Passports ---------------------------------------------------------------------------------------


def passport_add(*, client: Client, data: PassportData, actor: User | None = None) -> ClientPassport:
    passport = _prepared_passport(data)
    _refuse_passport_duplicate(client, passport)
    try:
        with transaction.atomic():
            return ClientPassport.objects.create(client=client, **_passport_values(passport))
    except IntegrityError as error:
        if not _is_duplicate_violation(error):
            raise
        _refuse_passport_duplicate(client, passport)
        raise


def passport_update(*, passport: ClientPassport, data: PassportData, actor: User | None = None) -> ClientPassport:
    merged: dict[str, Any] = {
        "kind": passport.kind, "series": passport.series, "number": passport.number,
        "issue_date": passport.issue_date, "expiry_date": passport.expiry_date,
        "issued_by": passport.issued_by, "is_active": passport.is_active,
    }
    merged.update(data)
    prepared = _prepared_passport(merged)
    _refuse_passport_duplicate(passport.client, prepared, exclude_passport_id=passport.pk)
    try:
        with transaction.atomic():
            for name, value in _passport_values(prepared).items():
                setattr(passport, name, value)
            passport.save()
            return passport
    except IntegrityError as error:
        if not _is_duplicate_violation(error):
            raise
        _refuse_passport_duplicate(passport.client, prepared, exclude_passport_id=passport.pk)
        raise


@transaction.atomic
def passport_delete(*, passport: ClientPassport, actor: User | None = None) -> None:
    passport.delete()


def _prepared_passport(data: Mapping[str, Any]) -> PreparedPassport:
    passport, errors = prepare_passport(data, "")
    if errors:
        raise ValidationError({key.lstrip("."): messages for key, messages in errors.items()})
    return cast(PreparedPassport, passport)


def _refuse_passport_duplicate(
    client: Client, passport: PreparedPassport, exclude_passport_id: int | None = None
) -> None:
    own = client.passports.filter(number_index__in=_passport_indexes(passport), is_archived=False)
    if exclude_passport_id:
        own = own.exclude(pk=exclude_passport_id)
    if own.exists():
        raise BusinessError("У клиента уже есть документ с таким номером.", code="duplicate_passport",
                            fields={"number": ["Документ с таким номером уже есть у этого клиента."]})
    matches = client_duplicates(passports=[passport.series + passport.number], exclude_client_id=client.pk)
    if matches:
        raise _duplicate_error(matches)


# --- Files -------------------------------------------------------------------------------------------


def client_file_add(*, client: Client, uploaded, description: str = "", actor: User | None = None) -> ClientFile:
    """Store an uploaded scan under a random key; checks size, declared type and the file's signature."""
    content_type = check_upload(uploaded)
    original_name = (getattr(uploaded, "name", "") or "file").rsplit("/", 1)[-1][:255]
    key = random_key("clients", original_name)
    with transaction.atomic():
        stored = ClientFile(
            client=client, original_name=original_name, content_type=content_type, size=uploaded.size,
            description=(description or "").strip()[:200],
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        uploaded.seek(0)
        stored.file.save(key, uploaded, save=False)
        try:
            stored.save()
        except Exception:
            default_storage.delete(str(stored.file.name))
            raise
    return stored


def check_upload(uploaded) -> str:
    if uploaded is None:
        raise ValidationError({"file": ["Приложите файл."]})
    limit = settings.MAX_UPLOAD_SIZE
    if uploaded.size == 0:
        raise ValidationError({"file": ["Файл пустой."]})
    if uploaded.size > limit:
        raise ValidationError({"file": [f"Файл больше допустимого размера ({limit // (1024 * 1024)} МБ)."]})
    declared = normalise_declared(getattr(uploaded, "content_type", ""))
    actual = sniff_file(uploaded)  # the bytes decide, never the name or the declared type
    if declared in ("", OCTET_STREAM) and actual in CLIENT_FILE_TYPES:
        return actual  # a client that does not say what it sends, sending a scan
    if declared not in CLIENT_FILE_TYPES:
        raise ValidationError({"file": ["Допустимы файлы PDF, JPEG, PNG, WEBP, HEIC, TIFF."]})
    if actual != declared:
        raise ValidationError({"file": ["Содержимое файла не соответствует его типу."]})
    return actual


@transaction.atomic
def client_file_delete(*, file: ClientFile, actor: User | None = None) -> None:
    name = str(file.file.name)
    file.delete()
    transaction.on_commit(lambda: default_storage.delete(name))
