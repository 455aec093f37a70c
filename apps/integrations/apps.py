from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "apps.integrations"
    label = "integrations"
    verbose_name = "Интеграции"

    def ready(self):
        from auditlog.registry import auditlog
        from django.db.models.signals import post_save

        from apps.core.erasure import register_retention_purger, register_subject_eraser
        from apps.integrations.erasure import erase_subject, purge_orphan_reply_files, purge_processed_payloads
        from apps.integrations.models import SECRET_FIELDS, IntegrationSettings
        from apps.integrations.signals import lead_created

        # A new lead notifies its manager(s) through the operators' bot (a job in the same transaction).
        post_save.connect(lead_created, sender="leads.Lead", dispatch_uid="integrations.lead_created")

        # 152-FZ anonymisation (apps.audit) erases the person's raw inbox payloads too.
        register_subject_eraser("integrations", erase_subject)
        register_retention_purger("inbox_payloads", "inbox_payloads", purge_processed_payloads)
        register_retention_purger("reply_files", "reply_files", purge_orphan_reply_files)

        # Secrets never reach the audit diff; neither do the polling cursors (noise).
        auditlog.register(
            IntegrationSettings,
            exclude_fields=[*SECRET_FIELDS, "imap_last_uid", "imap_uidvalidity", "telegram_offset", "updated_at"],
        )
