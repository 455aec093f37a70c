"""Reads of leads: one queryset per screen with its joins done once; the intake's hot lookups."""

import re

from django.db.models import F, Prefetch, Q, QuerySet

from apps.core.files import presigned_download_url
from apps.core.personal_data import PersonalDataForbidden
from apps.leads import queries
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

# Name and message text are encrypted: they are matched by decrypting the newest leads only, so a
# search costs the same whatever the table holds. Number, phone and e-mail are exact lookups.
SEARCH_RECENT_LEADS = 2000
_LEAD_NUMBER = re.compile(r"^(?:[LlЛл]-?)?0*(\d{1,9})$")


def lead_search_ids(term: str, *, personal_data: bool = True) -> set[int]:
    """Ids of the leads matching a search term: number, phone, e-mail, sender name, message text.

    Without the personal-data right (`personal_data=False`) a phone or e-mail term is refused
    (PersonalDataForbidden: a guess must not confirm a masked value) and message texts, hidden
    from such users, are not searched.
    """
    from django.core.exceptions import ValidationError

    from apps.leads.contacts import sender_contacts

    term = " ".join((term or "").split())
    if not term:
        return set()
    found: set[int] = set()
    number = _LEAD_NUMBER.match(term.replace(" ", ""))
    if number:
        found |= set(Lead.objects.filter(number=f"L-{int(number.group(1)):06d}").values_list("id", flat=True))
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
                condition = Q()
                for column in columns:
                    condition |= Q(**{f"{column}__in": value.lookup_indexes()})
                found |= set(Lead.objects.filter(condition).values_list("id", flat=True)[:500])
    needle = term.lower()
    if len(needle) >= 3:
        recent = list(Lead.objects.order_by("-id").values_list("id", flat=True)[:SEARCH_RECENT_LEADS])
        if recent:
            floor = recent[-1]
            for lead_id, name in Lead.objects.filter(id__gte=floor).values_list("id", "contact_name"):
                if needle in (name or "").lower():
                    found.add(lead_id)
            messages = LeadMessage.objects.filter(lead_id__gte=floor) if personal_data else LeadMessage.objects.none()
            for lead_id, text in messages.values_list("lead_id", "text"):
                if needle in (text or "").lower():
                    found.add(lead_id)
    return found


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
