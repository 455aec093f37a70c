"""Reads of leads: one queryset per screen with its joins done once; the intake's hot lookups."""

import re

from django.db.models import F, Prefetch, Q, QuerySet

from apps.core.files import presigned_download_url
from apps.core.personal_data import PersonalDataForbidden
from apps.leads import queries, search
from apps.leads.models import OPEN_STATUSES, Lead, LeadAttachment, LeadMessage


def lead_list() -> QuerySet[Lead]:
    # The duplicate's number only (an annotation): joining its whole row would decrypt its contacts.
    return Lead.objects.select_related("client", "operator", "suggested_client").annotate(
        possible_duplicate_of_number=F("possible_duplicate_of__number")
    )


def lead_detail() -> QuerySet[Lead]:
    return lead_list().prefetch_related(
        Prefetch("messages", queryset=LeadMessage.objects.order_by("received_at", "id")),
        Prefetch("attachments", queryset=LeadAttachment.objects.order_by("id")),
    )


# --- Intake lookups ---------------------------------------------------------------------------------
# Every incoming message runs these: plain SQL from apps.leads.queries (see there why).


def message_id_taken(channel: str, external_id: str) -> int | None:
    """The id of the message already taken as (channel, external_id), or None (the usual case)."""
    return queries.message_id_taken(channel, external_id)


def lead_open_of_sender_locked(terms: list[tuple[str, list[str]]]) -> Lead | None:
    """The sender's newest open lead, locked FOR UPDATE until the transaction ends; None if none.

    terms: (index column, blind indexes) pairs (SenderContacts.lead_terms()), any one matching.
    The same row, lock and instance as Lead.objects.select_for_update().filter(<any term>,
    status__in=OPEN_STATUSES).order_by("-created_at", "-id").first().
    """
    if not terms:
        return None
    return queries.lead_open_locked(terms)


def lead_open_sharing_contacts(terms: list[tuple[str, list[str]]], *, exclude_pk=None) -> int | None:
    """The id of the oldest open lead with any of the blind indexes in its column, or None.

    The oldest: repeated submissions all point at the first conversation, so merging them
    gathers everything in one lead.

    For the "possible duplicate" hint only (SenderContacts.duplicate_terms()): an id, never the
    row, so nothing of that lead is read, decrypted or written.
    """
    if not terms:
        return None
    condition = Q()
    for name, values in terms:
        Lead._meta.get_field(name)  # a model field, or FieldDoesNotExist
        condition |= Q(**{f"{name}__in": values})
    leads = Lead.objects.filter(condition, status__in=OPEN_STATUSES)
    if exclude_pk is not None:
        leads = leads.exclude(pk=exclude_pk)
    return leads.order_by("created_at", "id").values_list("pk", flat=True).first()


# --- the lead list's search box -------------------------------------------------------------------

# Name and message text are encrypted: they are matched through blind word tokens (apps.leads.search)
# by GIN indexes, nothing decrypted. Number, phone and e-mail are exact lookups.
_LEAD_NUMBER = re.compile(r"^(?:[LlЛл]-?)?0*(\d{1,9})$")


def lead_search_filter(term: str, *, personal_data: bool = True) -> Q:
    """The leads matching a search term: number, phone, e-mail, sender name, message text.

    Without the personal-data right (`personal_data=False`) a phone or e-mail term is refused
    (PersonalDataForbidden: a guess must not confirm a masked value) and message texts, hidden
    from such users, are not searched.
    """
    found = Q(pk__in=[])
    for branch in _search_branches(term, personal_data=personal_data):
        found |= branch
    return found


def _search_branches(term: str, *, personal_data: bool) -> list[Q]:
    """lead_search_filter's alternatives, each one an indexed condition: exact lookups (number,
    phone, e-mail), the sender's name words, the messages' words. Empty: nothing can match."""
    from django.core.exceptions import ValidationError

    from apps.leads.contacts import sender_contacts

    term = " ".join((term or "").split())
    if not term:
        return []
    exact, found_exact = Q(pk__in=[]), False
    number = _LEAD_NUMBER.match(term.replace(" ", ""))
    if number:
        exact |= Q(number=f"L-{int(number.group(1)):06d}")
        found_exact = True
    for key in ("phone", "email"):
        try:
            contacts = sender_contacts({key: term}, strict=True)
        except ValidationError:
            continue
        if not personal_data and any(value.index for value in contacts.values.values()):
            raise PersonalDataForbidden(
                "Нет права на персональные данные клиентов: поиск по телефону и e-mail недоступен.")
        for kind, value in contacts.values.items():
            if value.index:
                columns = ("phone_index", "whatsapp_index") if kind == "phone" else ("email_index",)
                for column in columns:
                    exact |= Q(**{f"{column}__in": value.lookup_indexes()})
                    found_exact = True
    return ([exact] if found_exact else []) + _word_branches(term, personal_data=personal_data)


SEARCH_CAP = 500


def lead_search_newest(queryset: QuerySet[Lead], term: str, *, personal_data: bool = True,
                       cap: int = SEARCH_CAP) -> tuple[list[int], bool]:
    """The ids of the newest `cap` leads of `queryset` the search finds (newest first) and whether
    more were found.

    Each alternative is read on its own, newest first, and stops after cap + 1 rows: a word that
    matches every lead walks the (created_at, id) index for a few hundred rows instead of testing
    and sorting all of them (an OR of a word and a subquery over messages is a full scan), a rare
    word is a GIN index lookup. The list shows these leads only: no exact count of a huge result.
    """
    rows: dict[int, object] = {}
    for branch in _search_branches(term, personal_data=personal_data):
        newest = queryset.filter(branch).order_by("-created_at", "-pk").values_list("pk", "created_at")
        rows.update(newest[: cap + 1])
    ordered = sorted(rows.items(), key=lambda row: (row[1], row[0]), reverse=True)
    return [pk for pk, _created in ordered[:cap]], len(ordered) > cap


def lead_search_ids(term: str, *, personal_data: bool = True, limit: int = 500) -> set[int]:
    """The ids of (at most `limit` of) the leads lead_search_filter finds, the newest first."""
    ids, _more = lead_search_newest(Lead.objects.all(), term, personal_data=personal_data, cap=limit)
    return set(ids)


def _word_branches(term: str, *, personal_data: bool) -> list[Q]:
    """Leads whose sender name, or one of whose messages, has every word of the term (a word may be
    the beginning of a longer one). A token is 64 bits of an HMAC: a false match is ~2⁻⁶⁴ per word
    pair, so nothing is decrypted to re-check. Messages only with the personal-data right (they are
    hidden from others)."""
    terms = [word for word in search.words(term) if len(word) >= search.NAME_PREFIX_FROM]
    if not terms:
        return []
    by_name = Q()
    messages = LeadMessage.objects.all()
    for word in terms:
        candidates = search.term_candidates(word)
        by_name &= Q(name_tokens__overlap=candidates)
        messages = messages.filter(text_tokens__overlap=candidates)
    if not personal_data:
        return [by_name]
    return [by_name, Q(pk__in=messages.values("lead_id"))]


def attachment_url(attachment) -> str:
    """A pre-signed link to a lead's attachment, saved under its original name and checked type."""
    return presigned_download_url(attachment.file.name, filename=attachment.name, content_type=attachment.content_type)


def new_leads_for(user) -> QuerySet[Lead]:
    """New leads a user should take: assigned to them, and — for managers (the operator role) —
    the unassigned ones too (every manager is notified of those)."""
    from apps.accounts.models import Role

    if not getattr(user, "is_authenticated", False):
        return Lead.objects.none()
    condition = Q(operator_id=user.pk)
    if user.role == Role.OPERATOR:
        condition |= Q(operator__isnull=True)
    return Lead.objects.filter(condition, status="new")
