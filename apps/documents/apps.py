from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "apps.documents"
    label = "documents"
    verbose_name = "Документы"

    def ready(self) -> None:
        self._name_schema_enums()
        from auditlog.registry import auditlog

        from apps.documents.models import Document, DocumentTemplate, DocumentTemplateVersion

        # Template bodies are long and carry no personal data; documents change only their status.
        auditlog.register(DocumentTemplate)
        auditlog.register(DocumentTemplateVersion, exclude_fields=["body", "css"])
        auditlog.register(Document, include_fields=["status", "sent_at", "signed_at"])

    @staticmethod
    def _name_schema_enums() -> None:
        """Our "type"/"status" choice sets get their own OpenAPI enum names (DocumentTypeEnum,
        DocumentStatusEnum) instead of colliding with other apps' "type"/"status" fields. Added to
        SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] here, before drf-spectacular first reads it, so
        the shared settings file stays untouched; entries already present there win."""
        from django.conf import settings

        overrides = settings.SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})
        overrides.setdefault("DocumentTypeEnum", "apps.documents.models.DocumentType")
        overrides.setdefault("DocumentStatusEnum", "apps.documents.models.DocumentStatus")
