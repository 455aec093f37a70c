from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "apps.clients"
    label = "clients"
    verbose_name = "Клиенты"

    def ready(self) -> None:
        from apps.clients import audit

        audit.register_models()
