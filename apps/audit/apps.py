from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "apps.audit"
    label = "audit"
    verbose_name = "Аудит и персональные данные"

    def ready(self) -> None:
        from apps.audit import signals

        signals.connect()
