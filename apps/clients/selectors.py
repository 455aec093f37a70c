"""Reads of clients: lookups by blind index, search by name, the list with its children."""

from collections.abc import Iterable
from datetime import date, datetime
from typing import NamedTuple

import orjson
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet

from apps.clients import queries
from apps.clients.models import Client, ClientContact, ClientPassport, ContactKind, build_search_name
from apps.clients.normalization import (
    EMAIL,
    PHONE,
    TELEGRAM,
    WHATSAPP,
    contact_index_candidates,
    normalize_contact,
    passport_index_candidates,
    passport_normalised,
)
from apps.core.crypto import decryptor
from apps.core.files import presigned_download_url
from apps.core.normalize import normalize_passport


def _indexes(kind: str, values: Iterable[str]) -> set[str]:
    """Blind indexes of the values that normalise; values that do not cannot match anything."""
    result = set()
    for value in values or ():
        try:
            result.update(contact_index_candidates(kind, normalize_contact(kind, value)))
        except ValidationError:
            continue
    return result


def _passport_indexes(values: Iterable[str]) -> set[str]:
    result = set()
    for value in values or ():
        try:
            result.update(passport_index_candidates(normalize_passport(value)))
        except ValidationError:
            continue
    return result


class ContactIndexes(NamedTuple):
    """Blind indexes of a sender's contacts by the kind they match: a phone index matches phone and
    WhatsApp contacts alike."""

    phone: set[str]
    email: set[str]
    telegram: set[str]


def _contact_indexes(*, phones=(), emails=(), telegram_ids=(), whatsapp_ids=()) -> ContactIndexes:
    return ContactIndexes(
        phone=_indexes(PHONE, phones) | _indexes(WHATSAPP, whatsapp_ids),
        email=_indexes(EMAIL, emails),
        telegram=_indexes(TELEGRAM, telegram_ids),
    )


def _contact_filter(*, phones=(), emails=(), telegram_ids=(), whatsapp_ids=()) -> Q | None:
    indexes = _contact_indexes(phones=phones, emails=emails, telegram_ids=telegram_ids, whatsapp_ids=whatsapp_ids)
    conditions = []
    if indexes.phone:
        conditions.append(Q(kind__in=[PHONE, WHATSAPP], blind_index__in=indexes.phone))
    if indexes.email:
        conditions.append(Q(kind=EMAIL, blind_index__in=indexes.email))
    if indexes.telegram:
        conditions.append(Q(kind=TELEGRAM, blind_index__in=indexes.telegram))
    if not conditions:
        return None
    combined = conditions[0]
    for condition in conditions[1:]:
        combined |= condition
    return combined


def clients_by_contacts(
    *, phones=(), emails=(), passports=(), telegram_ids=(), whatsapp_ids=()
) -> list[Client]:
    """Live clients owning any of the given contacts or passport numbers (series+number), by id.

    Values are normalised first; values that are not valid phones / e-mails simply match nothing.
    A phone matches phone and WhatsApp contacts alike.
    """
    conditions = []
    contact_q = _contact_filter(phones=phones, emails=emails, telegram_ids=telegram_ids, whatsapp_ids=whatsapp_ids)
    if contact_q is not None:
        owners = ClientContact.objects.filter(contact_q, is_archived=False).values("client_id")
        conditions.append(Q(id__in=owners))
    passport_indexes = _passport_indexes(passports)
    if passport_indexes:
        passport_owners = ClientPassport.objects.filter(number_index__in=passport_indexes, is_archived=False)
        conditions.append(Q(id__in=passport_owners.values("client_id")))
    if not conditions:
        return []
    combined = conditions[0]
    for condition in conditions[1:]:
        combined |= condition
    # One query; the default manager leaves soft-deleted clients out.
    return list(Client.objects.filter(combined).order_by("id"))


def client_of_contacts(*, phones=(), emails=(), telegram_ids=(), whatsapp_ids=()) -> Client | None:
    """The one live client owning any of the given contacts; None when none or several (the same
    answer as clients_by_contacts, in one statement built once: it runs for every incoming message)."""
    indexes = _contact_indexes(phones=phones, emails=emails, telegram_ids=telegram_ids, whatsapp_ids=whatsapp_ids)
    if not (indexes.phone or indexes.email or indexes.telegram):
        return None
    matches = queries.clients_by_contact_indexes(
        phone_indexes=sorted(indexes.phone), email_indexes=sorted(indexes.email),
        telegram_indexes=sorted(indexes.telegram), limit=2,
    )
    return matches[0] if len(matches) == 1 else None


def _matched_kinds(*, phones=(), emails=(), passports=(), telegram_ids=(), whatsapp_ids=(),
                   exclude_client_id: int | None = None) -> dict[int, set[str]]:
    matched: dict[int, set[str]] = {}
    contact_q = _contact_filter(phones=phones, emails=emails, telegram_ids=telegram_ids, whatsapp_ids=whatsapp_ids)
    if contact_q is not None:
        rows = ClientContact.objects.filter(contact_q, is_archived=False, client__is_deleted=False)
        if exclude_client_id:
            rows = rows.exclude(client_id=exclude_client_id)
        for client_id, kind in rows.values_list("client_id", "kind"):
            matched.setdefault(client_id, set()).add(kind)
    passport_indexes = _passport_indexes(passports)
    if passport_indexes:
        passport_rows = ClientPassport.objects.filter(
            number_index__in=passport_indexes, is_archived=False, client__is_deleted=False
        )
        if exclude_client_id:
            passport_rows = passport_rows.exclude(client_id=exclude_client_id)
        for client_id in passport_rows.values_list("client_id", flat=True):
            matched.setdefault(client_id, set()).add("passport")
    return matched


_MATCH_ORDER = ["passport", "phone", "email", "whatsapp", "telegram"]


def client_duplicates(*, phones=(), emails=(), passports=(), telegram_ids=(), whatsapp_ids=(),
                      exclude_client_id: int | None = None) -> list[dict]:
    """[{"id", "name", "matched_on": [...]}] of live clients that already own any given value.

    passports are "series+number" strings (normalised here). Best match first.
    """
    matched = _matched_kinds(phones=phones, emails=emails, passports=passports, telegram_ids=telegram_ids,
                             whatsapp_ids=whatsapp_ids, exclude_client_id=exclude_client_id)
    if not matched:
        return []
    names = {client.id: client.full_name for client in Client.objects.filter(id__in=matched)}
    result = [
        {"id": client_id, "name": names[client_id],
         "matched_on": sorted(kinds, key=lambda kind: _MATCH_ORDER.index(kind))}
        for client_id, kinds in matched.items()
        if client_id in names
    ]
    result.sort(key=lambda match: (-len(match["matched_on"]), match["id"]))
    return result


def live_contacts() -> QuerySet[ClientContact]:
    return ClientContact.objects.filter(is_archived=False).order_by("kind", "-is_primary", "id")


def live_passports() -> QuerySet[ClientPassport]:
    return ClientPassport.objects.filter(is_archived=False).order_by("-is_active", "-issue_date", "id")


def client_list_queryset() -> QuerySet[Client]:
    """Live clients with operator, live contacts and passports loaded in a constant number of queries.

    The children land in plain lists (client.live_contacts, client.live_passports): cheaper to read
    than prefetched managers, which build a queryset on every .all().
    """
    return Client.objects.select_related("operator").prefetch_related(
        Prefetch("contacts", queryset=live_contacts(), to_attr="live_contacts"),
        Prefetch("passports", queryset=live_passports(), to_attr="live_passports"),
    )


def search_clients(queryset: QuerySet[Client], term: str) -> QuerySet[Client]:
    """Partial, case-insensitive search by name (Cyrillic or Latin); every word must match.

    Matches against Client.search_name (lower-cased) with LIKE '%word%', which the pg_trgm GIN
    index serves when the extension is installed (a sequential scan otherwise).
    """
    words = build_search_name(term).split()
    for word in words[:5]:
        queryset = queryset.filter(search_name__contains=word)
    return queryset


def filter_by_phone(queryset: QuerySet[Client], value: str) -> QuerySet[Client]:
    indexes = contact_index_candidates(PHONE, normalize_contact(PHONE, value))
    return queryset.filter(
        id__in=ClientContact.objects.filter(kind__in=[PHONE, WHATSAPP], blind_index__in=indexes, is_archived=False)
        .values("client_id")
    )


def filter_by_email(queryset: QuerySet[Client], value: str) -> QuerySet[Client]:
    indexes = contact_index_candidates(EMAIL, normalize_contact(EMAIL, value))
    return queryset.filter(
        id__in=ClientContact.objects.filter(kind=EMAIL, blind_index__in=indexes, is_archived=False)
        .values("client_id")
    )


def filter_by_passport(queryset: QuerySet[Client], value: str) -> QuerySet[Client]:
    indexes = passport_index_candidates(passport_normalised("", value))
    return queryset.filter(
        id__in=ClientPassport.objects.filter(number_index__in=indexes, is_archived=False).values("client_id")
    )


# --- The list as plain rows ----------------------------------------------------------------------------
# The client list is the hottest read. One query per page: the client columns (birth date decrypted
# by its field) plus each client's live contacts and passports aggregated to JSON by PostgreSQL
# (ciphertext inside, decrypted here). No model instances, no prefetch round trips; with the
# pagination's count that is 2 queries per page whatever its size.

CLIENT_ROW_FIELDS = (
    "id", "last_name", "first_name", "middle_name", "last_name_latin", "first_name_latin", "birth_date",
    "citizenship", "notes", "operator_id", "created_at", "updated_at",
)


class ContactRow(NamedTuple):
    client_id: int
    id: int
    kind: str
    value: str
    is_primary: bool
    created_at: object


class PassportRow(NamedTuple):
    client_id: int
    id: int
    kind: str
    series: str
    number: str
    issue_date: object
    expiry_date: object
    issued_by: str
    is_active: bool


class ClientRow(NamedTuple):
    id: int
    last_name: str
    first_name: str
    middle_name: str
    last_name_latin: str
    first_name_latin: str
    birth_date: object
    citizenship: str
    notes: str
    operator_id: int | None
    created_at: object
    updated_at: object
    live_contacts: list
    live_passports: list

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.last_name, self.first_name, self.middle_name) if part)


def client_rows(queryset: QuerySet[Client]) -> QuerySet:
    """The (filtered, ordered) clients as tuples with their children as JSON text: countable (the
    count leaves the unused aggregates out) and sliceable for pagination."""
    return queryset.annotate(
        contacts_json=queries.contacts_json(), passports_json=queries.passports_json()
    ).values_list(*CLIENT_ROW_FIELDS, "contacts_json", "passports_json")


def client_page_rows(ids: list[int]) -> list[tuple]:
    """client_rows() of exactly these clients, in the order of `ids` (a list page read after paging
    over bare ids, so the per-row JSON subqueries run for the page only, however deep it is)."""
    if not ids:
        return []
    found = {row[0]: row for row in client_rows(Client.objects.filter(pk__in=ids).order_by())}
    return [found[pk] for pk in ids if pk in found]


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def client_rows_with_children(rows: Iterable[tuple]) -> list[ClientRow]:
    result = []
    decrypt_str = decryptor()
    for *columns, contacts_json, passports_json in rows:
        client_id = columns[0]
        contacts = [
            ContactRow(client_id, cid, kind, decrypt_str(value), primary, datetime.fromisoformat(created))
            for cid, kind, value, primary, created in orjson.loads(contacts_json)
        ]
        passports = [
            PassportRow(client_id, pid, kind, decrypt_str(series), decrypt_str(number), _date(issued),
                        _date(expires), decrypt_str(issued_by), active)
            for pid, kind, series, number, issued, expires, issued_by, active in orjson.loads(passports_json)
        ]
        result.append(ClientRow(*columns, contacts, passports))  # type: ignore[call-arg]
    return result


def client_labels(clients: Iterable[Client]) -> dict[int, str]:
    """«Иванов Иван, 1985 г. р., +7 *** ***-45-67» per client id: namesakes told apart in pickers.

    The phone is always masked here (labels end up in lists and pickers, not only for those who
    may see personal data). One query for the phones of all the clients.
    """
    clients = list(clients)
    phones: dict[int, ClientContact] = {}
    contacts = ClientContact.objects.filter(
        client_id__in=[client.pk for client in clients], kind=ContactKind.PHONE, is_archived=False
    ).order_by("client_id", "-is_primary", "id")
    for contact in contacts:
        phones.setdefault(contact.client_id, contact)
    return {client.pk: client_label(client, phones.get(client.pk)) for client in clients}


def client_label(client: Client, phone: ClientContact | None = None) -> str:
    parts = [client.full_name]
    if client.birth_date:
        parts.append(f"{client.birth_date.year} г. р.")
    if phone is not None:
        parts.append(phone.masked_value)
    return ", ".join(parts)


def client_file_url(stored) -> str:
    """A pre-signed link to a client's file, saved under its original name and checked type."""
    return presigned_download_url(stored.file.name, filename=stored.original_name, content_type=stored.content_type)
