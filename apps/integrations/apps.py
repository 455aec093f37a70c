from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "apps.integrations"
    label = "integrations"
    verbose_name = "Интеграции"

    def ready(self):
        from auditlog.registry import auditlog

        from apps.integrations.models import SECRET_FIELDS, IntegrationSettings

        # Secrets never reach the audit diff; neither do the polling cursors (noise).
        auditlog.register(
            IntegrationSettings,
            exclude_fields=[*SECRET_FIELDS, "imap_last_uid", "imap_uidvalidity", "telegram_offset", "updated_at"],
        )
