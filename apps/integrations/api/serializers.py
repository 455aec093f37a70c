"""Serializers of the integration settings API. Secrets are write-only and never rendered."""

from rest_framework import serializers

from apps.integrations.models import ImapSecurity, IntegrationSettings, IntegrationType, Purpose
from travelcrm.api import BaseModelSerializer, StrictBooleanField, StrictCharField


class IntegrationSerializer(BaseModelSerializer):
    has_token = StrictBooleanField(read_only=True)
    webhook_url = serializers.SerializerMethodField()
    # Text without `format: email`, like the other optional e-mails of the API (a lead's
    # contact_email): "" when not set — the sender is then the SMTP user (sender_address).
    smtp_from = StrictCharField(read_only=True, help_text="Адрес отправителя; пусто — SMTP-пользователь.")

    class Meta:
        model = IntegrationSettings
        fields = [
            "id",
            "type",
            "bot_name",
            "purpose",
            "has_token",
            "is_active",
            "last_connected_at",
            "last_error",
            "phone_number_id",
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_user",
            "imap_folder",
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "smtp_user",
            "smtp_from",
            "webhook_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_webhook_url(self, obj) -> str:
        if obj.type == IntegrationType.EMAIL:
            return ""
        return f"/api/v1/integrations/{obj.type}/{obj.pk}/webhook/"


class _SettingsInput(serializers.Serializer):
    bot_name = StrictCharField(max_length=128, required=False, allow_blank=True)
    api_token = StrictCharField(
        max_length=4096, required=False, allow_blank=True, write_only=True, trim_whitespace=True
    )
    app_secret = StrictCharField(max_length=512, required=False, allow_blank=True, write_only=True)
    verify_token = StrictCharField(max_length=512, required=False, allow_blank=True, write_only=True)
    phone_number_id = StrictCharField(max_length=64, required=False, allow_blank=True)
    imap_host = StrictCharField(max_length=255, required=False, allow_blank=True)
    imap_port = serializers.IntegerField(min_value=1, max_value=65535, required=False, allow_null=True)
    imap_security = serializers.ChoiceField(choices=ImapSecurity.choices, required=False)
    imap_user = StrictCharField(max_length=255, required=False, allow_blank=True)
    imap_password = StrictCharField(max_length=1024, required=False, allow_blank=True, write_only=True)
    imap_folder = StrictCharField(max_length=255, required=False)
    smtp_host = StrictCharField(max_length=255, required=False, allow_blank=True)
    smtp_port = serializers.IntegerField(min_value=1, max_value=65535, required=False, allow_null=True)
    smtp_security = serializers.ChoiceField(choices=ImapSecurity.choices, required=False)
    smtp_user = StrictCharField(max_length=255, required=False, allow_blank=True)
    smtp_password = StrictCharField(max_length=1024, required=False, allow_blank=True, write_only=True)
    smtp_from = serializers.EmailField(required=False, allow_blank=True)
    admin_password = StrictCharField(max_length=1024, required=False, allow_blank=True, write_only=True)


class IntegrationAddSerializer(_SettingsInput):
    type = serializers.ChoiceField(choices=IntegrationType.choices)
    purpose = serializers.ChoiceField(choices=Purpose.choices, default=Purpose.SALES)


class IntegrationUpdateSerializer(_SettingsInput):
    id = serializers.IntegerField()
    purpose = serializers.ChoiceField(choices=Purpose.choices, required=False)


class IntegrationIdSerializer(serializers.Serializer):
    id = serializers.IntegerField()
