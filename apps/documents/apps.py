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

        from django.db.models.signals import post_migrate

        post_migrate.connect(_refresh_default_templates, sender=self, dispatch_uid="documents.refresh_defaults")

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


def _refresh_default_templates(sender, using="default", **kwargs) -> None:
    """Bring untouched default templates up to the bundled text after every `migrate`."""
    from apps.documents.models import DocumentTemplateVersion
    from apps.documents.services import default_templates_refresh

    if DocumentTemplateVersion.objects.using(using).exists():
        default_templates_refresh()
