from django.apps import AppConfig

# Personal data never reaches the audit log in plaintext: encrypted fields, their blind indexes
# and the raw payload are left out of the diff.
LEAD_AUDIT_EXCLUDE = [
    "contact_name",
    "contact_phone",
    "contact_email",
    "contact_telegram",
    "contact_whatsapp",
    "phone_index",
    "email_index",
    "telegram_index",
    "whatsapp_index",
    "payload",
]


class LeadsConfig(AppConfig):
    name = "apps.leads"
    label = "leads"
    verbose_name = "Заявки"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from apps.leads.models import Lead

        auditlog.register(Lead, exclude_fields=LEAD_AUDIT_EXCLUDE)
        self._register_client_reference()

    @staticmethod
    def _register_client_reference() -> None:
        """Merging two clients moves their leads too (apps.clients.references)."""
        from apps.clients.references import register_client_reference

        register_client_reference("leads.Lead", "client")
        register_client_reference("leads.Lead", "suggested_client")
