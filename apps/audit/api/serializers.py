"""Shapes of the audit API (read-only). Stored changes are already masked (never plaintext PD)."""

from rest_framework import serializers

from apps.audit import labels
from apps.audit.models import AccessLogEntry, DestructionRecord
from apps.clients.api.serializers import ConsentCardSerializer
from travelcrm.api import StrictBooleanField, StrictCharField


class AuditEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    timestamp = serializers.DateTimeField()
    action = serializers.SerializerMethodField(help_text="create | update | delete | access")
    action_label = serializers.SerializerMethodField(help_text="Russian label (event name for access events).")
    event = serializers.SerializerMethodField(help_text="login, login_failed, logout, export, ... or null")
    model = serializers.SerializerMethodField(help_text="app_label.model")
    model_label = serializers.SerializerMethodField()
    object_id = serializers.CharField(source="object_pk")
    object_repr = serializers.CharField()
    actor = serializers.IntegerField(source="actor_id", allow_null=True)
    actor_email = serializers.SerializerMethodField()
    remote_addr = serializers.CharField(allow_null=True)
    changes = serializers.JSONField(
        source="changes_dict", help_text="{field: [old, new]}; personal data masked as «[скрыто]»."
    )
    data = serializers.JSONField(source="additional_data", allow_null=True)

    def get_action(self, entry) -> str:
        return labels.ACTION_CODES.get(entry.action, str(entry.action))

    def get_action_label(self, entry) -> str:
        return labels.action_label(entry)

    def get_event(self, entry) -> str | None:
        return (entry.additional_data or {}).get("event") if isinstance(entry.additional_data, dict) else None

    def get_model(self, entry) -> str:
        return f"{entry.content_type.app_label}.{entry.content_type.model}"

    def get_model_label(self, entry) -> str:
        return labels.model_label(entry.content_type)

    def get_actor_email(self, entry) -> str | None:
        return entry.actor.email if entry.actor_id else entry.actor_email


class AccessEntrySerializer(serializers.ModelSerializer):
    user_email = serializers.SerializerMethodField()

    class Meta:
        model = AccessLogEntry
        fields = ["id", "at", "user", "user_email", "client_ids", "categories", "endpoint", "method", "channel",
                  "remote_addr", "request_id"]

    def get_user_email(self, entry) -> str | None:
        return entry.user.email if entry.user_id else None


class DestructionRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = DestructionRecord
        fields = ["id", "client_id", "subject_label", "performed_at", "performed_by", "performed_by_name", "reason",
                  "categories", "method", "details"]


class AnonymizeSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=2000, help_text="Why the data is destroyed (goes into the act).")
    force = StrictBooleanField(
        default=False, help_text="Anonymise even while an order of the client is in progress (cannot be undone)."
    )


class ConsentSerializer(ConsentCardSerializer):
    """A consent (the client card's shape), with the lead it came from."""

    lead_id = serializers.IntegerField(read_only=True, allow_null=True)


class PaperConsentSerializer(serializers.Serializer):
    purposes = serializers.MultipleChoiceField(
        choices=["contract", "transfer", "marketing"], required=False,
        help_text="Default: contract and transfer; marketing only when the person ticked it.",
    )
    given_at = serializers.DateTimeField(required=False, help_text="When it was signed (default: now).")
    scan = serializers.FileField(help_text="The signed consent: PDF, JPEG or PNG (multipart/form-data).")
