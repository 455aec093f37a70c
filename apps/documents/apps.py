from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "apps.documents"
    label = "documents"
    verbose_name = "Документы"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from apps.documents.models import Document, DocumentTemplate, DocumentTemplateVersion

        # Template bodies are long and carry no personal data; documents change only their status.
        auditlog.register(DocumentTemplate)
        auditlog.register(DocumentTemplateVersion, exclude_fields=["body", "css"])
        auditlog.register(Document, include_fields=["status", "sent_at", "signed_at"])
