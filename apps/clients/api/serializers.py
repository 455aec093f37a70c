"""Shapes of the clients API. Serializers check shape only; services hold the rules.

Output is built by plain functions (client_to_dict & co.) over prefetched rows — fast, no per-row
queries — and masks personal data for users without clients.view_personal_data.
"""

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.clients import selectors
from apps.clients.models import ClientFile, ContactKind, PassportKind, mask_contact_value
from apps.clients.selectors import client_file_url
from apps.core import access
from apps.core.masking import mask_date, mask_passport_number, mask_passport_series
from travelcrm.api import StrictBooleanField, StrictCharField, sane_year

MAX_LIST = 20


# --- Output --------------------------------------------------------------------------------------------


def _contact_value(contact, show_pd: bool) -> str:
    """contact: a ClientContact or a selectors.ContactRow."""
    return contact.value if show_pd else mask_contact_value(contact.kind, contact.value)


_CONTACT_CATEGORY = {"phone": access.PHONE, "email": access.EMAIL, "telegram": access.MESSENGER,
                     "whatsapp": access.MESSENGER}


def contact_to_dict(contact, show_pd: bool) -> dict:
    return {
        "id": contact.id,
        "kind": contact.kind,
        "value": _contact_value(contact, show_pd),
        "is_primary": contact.is_primary,
        "created_at": contact.created_at.isoformat(),
    }


def passport_to_dict(passport, show_pd: bool) -> dict:
    """passport: a ClientPassport or a selectors.PassportRow."""
    return {
        "id": passport.id,
        "kind": passport.kind,
        "series": passport.series if show_pd else mask_passport_series(passport.series),
        "number": passport.number if show_pd else mask_passport_number(passport.number),
        "issue_date": passport.issue_date.isoformat() if passport.issue_date else None,
        "expiry_date": passport.expiry_date.isoformat() if passport.expiry_date else None,
        "issued_by": passport.issued_by if show_pd else ("***" if passport.issued_by else ""),
        "is_active": passport.is_active,
    }


def client_to_dict(client, show_pd: bool) -> dict:
    """client: a Client (children prefetched by selectors.client_list_queryset) or a selectors.ClientRow."""
    contacts = getattr(client, "live_contacts", None)
    if contacts is None:
        contacts = list(selectors.live_contacts().filter(client=client))
    passports = getattr(client, "live_passports", None)
    if passports is None:
        passports = list(selectors.live_passports().filter(client=client))
    by_kind: dict[str, list[str]] = {"phone": [], "email": [], "telegram": [], "whatsapp": []}
    for contact in contacts:
        by_kind[contact.kind].append(_contact_value(contact, show_pd))
    birth_date = client.birth_date
    if show_pd:
        _note_client_access(client.id, by_kind, passports, birth_date, client.notes)
    return {
        "id": client.id,
        "last_name": client.last_name,
        "first_name": client.first_name,
        "middle_name": client.middle_name,
        "last_name_latin": client.last_name_latin,
        "first_name_latin": client.first_name_latin,
        "full_name": client.full_name,
        "birth_date": (birth_date.isoformat() if show_pd else mask_date(birth_date)) if birth_date else None,
        "citizenship": client.citizenship,
        "phones": by_kind["phone"],
        "emails": by_kind["email"],
        "telegram": by_kind["telegram"],
        "whatsapp": by_kind["whatsapp"],
        "contacts": [contact_to_dict(contact, show_pd) for contact in contacts],
        "passports": [passport_to_dict(passport, show_pd) for passport in passports],
        "notes": client.notes if show_pd else ("***" if client.notes else ""),
        "operator": client.operator_id,
        "created_at": client.created_at.isoformat(),
        "updated_at": client.updated_at.isoformat(),
    }


def _note_client_access(client_id: int, by_kind: dict, passports, birth_date, notes: str) -> None:
    """The access log (apps.core.access): which categories this client's unmasked output shows."""
    categories = [_CONTACT_CATEGORY[kind] for kind, values in by_kind.items() if values]
    if passports:
        categories.append(access.PASSPORT)
    if birth_date:
        categories.append(access.BIRTH_DATE)
    if notes:
        categories.append(access.NOTES)
    if categories:
        access.note_personal_data_access((client_id,), categories)


class _FastOutput(serializers.Serializer):
    """Declares the fields for OpenAPI; to_representation uses the plain function."""

    def _show_pd(self) -> bool:
        return bool(self.context.get("show_pd"))


class ContactSerializer(_FastOutput):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=ContactKind.choices)
    value = StrictCharField(max_length=254, help_text="Masked (+7 *** ***-45-67) without the right to see PD.")
    is_primary = StrictBooleanField(default=False)
    created_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance):
        if self._show_pd():
            access.note_personal_data_access((instance.client_id,), (_CONTACT_CATEGORY[instance.kind],))
        return contact_to_dict(instance, self._show_pd())


class ContactUpdateSerializer(serializers.Serializer):
    value = StrictCharField(max_length=254, required=False)
    is_primary = StrictBooleanField(required=False)


class PassportSerializer(_FastOutput):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=PassportKind.choices, default=PassportKind.INTERNAL)
    series = StrictCharField(max_length=20, allow_blank=True, required=False, default="")
    number = StrictCharField(max_length=30)
    issue_date = serializers.DateField(required=False, allow_null=True, validators=[sane_year])
    expiry_date = serializers.DateField(required=False, allow_null=True, validators=[sane_year])
    issued_by = StrictCharField(max_length=300, allow_blank=True, required=False, default="")
    is_active = StrictBooleanField(default=True)

    def to_representation(self, instance):
        if self._show_pd():
            access.note_personal_data_access((instance.client_id,), (access.PASSPORT,))
        return passport_to_dict(instance, self._show_pd())


class ClientSerializer(_FastOutput):
    """A client as the API reads and writes it (phones / emails as lists of strings)."""

    id = serializers.IntegerField(read_only=True)
    last_name = StrictCharField(max_length=100)
    first_name = StrictCharField(max_length=100)
    middle_name = StrictCharField(max_length=100, allow_blank=True, required=False)
    last_name_latin = StrictCharField(max_length=100, allow_blank=True, required=False)
    first_name_latin = StrictCharField(max_length=100, allow_blank=True, required=False)
    full_name = StrictCharField(read_only=True)
    birth_date = serializers.DateField(
        required=False, allow_null=True, validators=[sane_year],
        help_text="YYYY-MM-DD; masked (**.**.1985) without the right to see PD."
    )
    citizenship = StrictCharField(max_length=2, allow_blank=True, required=False, help_text="ISO 3166 alpha-2.")
    phones = serializers.ListField(child=StrictCharField(max_length=50), required=False, max_length=MAX_LIST)
    emails = serializers.ListField(child=StrictCharField(max_length=254), required=False, max_length=MAX_LIST)
    telegram = serializers.ListField(child=StrictCharField(max_length=64), required=False, max_length=MAX_LIST)
    whatsapp = serializers.ListField(child=StrictCharField(max_length=50), required=False, max_length=MAX_LIST)
    contacts = ContactSerializer(many=True, read_only=True)
    passports = PassportSerializer(many=True, required=False, max_length=MAX_LIST)
    notes = StrictCharField(allow_blank=True, required=False, max_length=10_000)
    operator = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), required=False, allow_null=True
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance):
        return client_to_dict(instance, self._show_pd())


class MergeSerializer(serializers.Serializer):
    other_id = serializers.IntegerField(min_value=1, help_text="The client merged into this one (then removed).")


class ClientFileSerializer(_FastOutput):
    id = serializers.IntegerField(read_only=True)
    file = serializers.FileField(write_only=True, help_text="multipart/form-data; PDF, JPEG, PNG, WEBP, HEIC, TIFF.")
    description = StrictCharField(max_length=200, allow_blank=True, required=False)
    original_name = StrictCharField(read_only=True)
    content_type = StrictCharField(read_only=True)
    size = serializers.IntegerField(read_only=True)
    # A link to the app (/files/…, encrypted storage) or the storage's pre-signed URL: a URI reference.
    download_url = extend_schema_field(OpenApiTypes.URI_REF)(StrictCharField(
        read_only=True, allow_null=True, help_text="Pre-signed, expiring; null without the right to see PD."
    ))
    created_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance: ClientFile):
        show_pd = self._show_pd()
        if show_pd:
            access.note_personal_data_access((instance.client_id,), (access.FILES,))
        return {
            "id": instance.id,
            "description": instance.description,
            "original_name": instance.original_name if show_pd else "***",
            "content_type": instance.content_type,
            "size": instance.size,
            "download_url": client_file_url(instance) if show_pd else None,
            "created_at": instance.created_at.isoformat(),
        }


class ConsentCardSerializer(_FastOutput):
    """A consent on the client card; evidence (IP, browser) masked without the right to see PD."""

    id = serializers.IntegerField(read_only=True)
    purposes = serializers.ListField(child=StrictCharField(), read_only=True)
    channel = StrictCharField(read_only=True)
    given_at = serializers.DateTimeField(read_only=True)
    withdrawn_at = serializers.DateTimeField(read_only=True, allow_null=True)
    is_active = StrictBooleanField(read_only=True)
    text_version = StrictCharField(read_only=True)
    text_sha256 = StrictCharField(read_only=True)
    evidence = serializers.DictField(read_only=True)

    def to_representation(self, instance):
        from apps.clients.consents import consent_to_dict

        data = consent_to_dict(instance)
        if not self._show_pd():
            data["evidence"] = {key: ("***" if value and key in ("ip", "user_agent") else value)
                                for key, value in data["evidence"].items()}
        return data
