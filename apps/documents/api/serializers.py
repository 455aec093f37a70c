"""API shapes of documents and templates (English field names; writes go through services)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.documents.models import Document, DocumentTemplate, DocumentTemplateVersion, DocumentType
from travelcrm.api import BaseModelSerializer, StrictBooleanField, StrictCharField


class DocumentSerializer(BaseModelSerializer):
    order = serializers.IntegerField(source="order_id", read_only=True)
    order_number = StrictCharField(source="order.number", read_only=True)
    template_version = serializers.IntegerField(source="template_version_id", read_only=True)
    template_version_number = serializers.IntegerField(source="template_version.version", read_only=True)
    storage_key = StrictCharField(source="file.name", read_only=True)
    generated_by = serializers.IntegerField(source="generated_by_id", read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id", "type", "order", "order_number", "version", "number", "status", "storage_key", "size",
            "template_version", "template_version_number", "generated_by", "generated_at", "sent_at", "signed_at",
            "download_url", "checks", "confirmed",
        ]
        read_only_fields = fields

    def get_download_url(self, document: Document) -> str:
        """The API route that hands out a short-lived link (the storage URL itself is never stored)."""
        return f"/api/v1/documents/{document.pk}/download/"


class DocumentGenerateSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=DocumentType.choices)
    confirm = StrictBooleanField(
        required=False, default=False,
        help_text="Generate despite findings of level `confirm` (e.g. an act before the last service ends); "
                  "the confirmation is recorded on the document and in the order's timeline.",
    )


class CheckFindingSerializer(serializers.Serializer):
    code = StrictCharField()
    level = serializers.ChoiceField(choices=["error", "confirm", "warning"],
                                    help_text="error: refused; confirm: needs confirm=true; warning: shown only.")
    message = StrictCharField()
    fix_url = StrictCharField(help_text="Admin page where the data is fixed (may be empty).")
    fix_label = StrictCharField()


class DocumentChecksSerializer(serializers.Serializer):
    type = StrictCharField()
    can_generate = StrictBooleanField(help_text="No finding of level error.")
    needs_confirmation = StrictBooleanField()
    checks = CheckFindingSerializer(many=True)


class DocumentDownloadSerializer(serializers.Serializer):
    # A link to the app (/files/…, encrypted storage) or the storage's pre-signed URL: a URI reference.
    url = extend_schema_field(OpenApiTypes.URI_REF)(StrictCharField())
    expires_in = serializers.IntegerField(help_text="Seconds the pre-signed URL stays valid.")
    file_name = StrictCharField()


class TemplateVersionSerializer(BaseModelSerializer):
    template = serializers.IntegerField(source="template_id", read_only=True)
    type = StrictCharField(source="template.type", read_only=True)
    uploaded_by = serializers.IntegerField(source="uploaded_by_id", read_only=True, allow_null=True)

    class Meta:
        model = DocumentTemplateVersion
        fields = [
            "id", "template", "type", "version", "is_active", "comment", "uploaded_by", "uploaded_at", "body", "css",
        ]
        read_only_fields = fields


class TemplateVersionBriefSerializer(TemplateVersionSerializer):
    class Meta(TemplateVersionSerializer.Meta):
        fields = ["id", "version", "is_active", "comment", "uploaded_by", "uploaded_at"]
        read_only_fields = fields


class DocumentTemplateSerializer(BaseModelSerializer):
    versions = TemplateVersionBriefSerializer(many=True, read_only=True)
    active_version = serializers.SerializerMethodField()

    class Meta:
        model = DocumentTemplate
        fields = ["id", "type", "name", "created_at", "active_version", "versions"]
        read_only_fields = fields

    def get_active_version(self, template: DocumentTemplate) -> int | None:
        for version in template.versions.all():
            if version.is_active:
                return version.version
        return None


class TemplateUploadSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=DocumentType.choices)
    name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    body = StrictCharField(max_length=200_000, trim_whitespace=False, help_text="Jinja2 HTML.")
    css = StrictCharField(max_length=100_000, required=False, allow_blank=True, default="", trim_whitespace=False)
    comment = StrictCharField(max_length=300, required=False, allow_blank=True, default="")
    activate = StrictBooleanField(required=False, default=True)
