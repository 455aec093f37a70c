"""Shapes of the leads API. Personal data is masked for users without clients.view_personal_data."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from apps.clients.models import Client
from apps.core.masking import mask_email, mask_phone
from apps.leads.models import Lead, LeadAttachment, LeadMessage
from apps.leads.selectors import attachment_url
from travelcrm.api import BaseModelSerializer, StrictCharField

PERSONAL_DATA_PERMISSION = "clients.view_personal_data"
HIDDEN = "скрыто"


def can_see_personal_data(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and user.has_perm(PERSONAL_DATA_PERMISSION))


def _mask_handle(value: str) -> str:
    return (value[:2] + "***") if value else ""


class _MaskingMixin:
    @property
    def unmasked(self) -> bool:
        cached = self.context.get("_unmasked")
        if cached is None:
            cached = can_see_personal_data(self.context.get("request"))
            self.context["_unmasked"] = cached
        return cached


class LeadAttachmentSerializer(_MaskingMixin, BaseModelSerializer):
    """Files the customer sent (often passport scans): name and link only with the personal-data right."""

    name = serializers.SerializerMethodField(help_text="Имя файла; без права на ПДн — «скрыто».")
    url = serializers.SerializerMethodField(
        help_text="Ссылка для скачивания (ограничена по времени); без права на ПДн — null."
    )

    class Meta:
        model = LeadAttachment
        fields = ["id", "message", "name", "content_type", "size", "note", "url", "created_at"]

    def get_name(self, obj: LeadAttachment) -> str:
        return obj.name if self.unmasked else HIDDEN

    def get_url(self, obj: LeadAttachment) -> str | None:
        return attachment_url(obj) if obj.file and self.unmasked else None


class LeadMessageSerializer(_MaskingMixin, BaseModelSerializer):
    """A message's text carries whatever the customer typed (phone, passport, birth date): it is
    hidden, not masked, from roles without the personal-data right — a pattern-based mask would
    miss a number written in words or split by spaces."""

    text = serializers.SerializerMethodField(help_text="Текст сообщения; без права на ПДн — null.")
    external_id = serializers.SerializerMethodField(help_text="Идентификатор в канале; без права на ПДн — null.")

    class Meta:
        model = LeadMessage
        fields = ["id", "channel", "external_id", "direction", "text", "received_at"]

    def get_text(self, obj: LeadMessage) -> str | None:
        return obj.text if self.unmasked else None

    def get_external_id(self, obj: LeadMessage) -> str | None:
        return obj.external_id if self.unmasked else None


class LeadSerializer(_MaskingMixin, BaseModelSerializer):
    contact_phone = serializers.SerializerMethodField()
    contact_email = serializers.SerializerMethodField()
    contact_telegram = serializers.SerializerMethodField()
    contact_whatsapp = serializers.SerializerMethodField()
    client_name = serializers.SerializerMethodField()
    operator_name = serializers.SerializerMethodField()
    suggested_client_name = serializers.SerializerMethodField(
        help_text="Клиент, найденный по контактам, которые отправитель указал сам: привязать после проверки."
    )
    possible_duplicate_of_number = serializers.SerializerMethodField(
        help_text="Номер открытой заявки с теми же контактами: объединить после проверки."
    )

    class Meta:
        model = Lead
        fields = [
            "id", "number", "source", "status", "external_id",
            "contact_name", "contact_phone", "contact_email", "contact_telegram", "contact_whatsapp",
            "client", "client_name", "operator", "operator_name", "order", "rejection_reason",
            "suggested_client", "suggested_client_name", "possible_duplicate_of", "possible_duplicate_of_number",
            "created_at", "updated_at", "last_message_at", "closed_at",
        ]
        read_only_fields = fields

    def get_contact_phone(self, obj) -> str:
        return obj.contact_phone if self.unmasked else mask_phone(obj.contact_phone)

    def get_contact_email(self, obj) -> str:
        return obj.contact_email if self.unmasked else mask_email(obj.contact_email)

    def get_contact_telegram(self, obj) -> str:
        return obj.contact_telegram if self.unmasked else _mask_handle(obj.contact_telegram)

    def get_contact_whatsapp(self, obj) -> str:
        return obj.contact_whatsapp if self.unmasked else mask_phone(obj.contact_whatsapp)

    def get_client_name(self, obj) -> str | None:
        return obj.client.full_name if obj.client_id else None

    def get_suggested_client_name(self, obj) -> str | None:
        return obj.suggested_client.full_name if obj.suggested_client_id else None

    def get_possible_duplicate_of_number(self, obj) -> str | None:
        if obj.possible_duplicate_of_id is None:
            return None
        number = getattr(obj, "possible_duplicate_of_number", None)  # annotated by the selectors
        return number if number is not None else obj.possible_duplicate_of.number

    def get_operator_name(self, obj) -> str | None:
        if obj.operator_id is None:
            return None
        return obj.operator.full_name or obj.operator.email


class LeadDetailSerializer(LeadSerializer):
    messages = LeadMessageSerializer(many=True, read_only=True)
    attachments = LeadAttachmentSerializer(many=True, read_only=True)
    payload = serializers.SerializerMethodField(help_text="Исходное сообщение; только с правом на ПДн.")

    class Meta(LeadSerializer.Meta):
        fields = [*LeadSerializer.Meta.fields, "payload", "messages", "attachments"]
        read_only_fields = fields

    def get_payload(self, obj) -> dict | None:
        return obj.payload if self.unmasked else None


class LeadWriteSerializer(serializers.Serializer):
    """Manual lead (source=manual) and plain edits. Validation of the values is the service's."""

    contact_name = StrictCharField(required=False, allow_blank=True, max_length=200)
    contact_phone = StrictCharField(required=False, allow_blank=True, max_length=64)
    contact_email = StrictCharField(required=False, allow_blank=True, max_length=254)
    contact_telegram = StrictCharField(required=False, allow_blank=True, max_length=64)
    contact_whatsapp = StrictCharField(required=False, allow_blank=True, max_length=64)
    text = StrictCharField(required=False, allow_blank=True, max_length=20000, help_text="Текст обращения.")
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.all(), required=False, allow_null=True)
    operator = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), required=False, allow_null=True
    )

    def validate(self, attrs):
        if self.instance is None and not any(
            attrs.get(key) for key in ("contact_name", "contact_phone", "contact_email", "client", "text")
        ):
            raise serializers.ValidationError("Укажите контакт, клиента или текст заявки.", code="empty_lead")
        return attrs


class LeadRejectSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=2000, help_text="Причина отказа.")



class LeadLinkClientSerializer(serializers.Serializer):
    client = serializers.PrimaryKeyRelatedField(
        queryset=Client.objects.all(), required=False, allow_null=True,
        help_text="Клиент; по умолчанию — предложенный (suggested_client).",
    )


class LeadMergeSerializer(serializers.Serializer):
    target = serializers.PrimaryKeyRelatedField(
        queryset=Lead.objects.all(), required=False, allow_null=True,
        help_text="Заявка, в которую перенести сообщения; по умолчанию — possible_duplicate_of.",
    )
