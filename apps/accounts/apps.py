from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Пользователи"

    def ready(self) -> None:
        from apps.accounts import schema, signals  # noqa: F401 - schema registers the OpenAPI auth scheme

        # Runs once after all apps migrated, so every app's permissions exist by then.
        post_migrate.connect(signals.sync_groups_after_migrate, sender=self, dispatch_uid="accounts.sync_roles")
