"""Load the bundled default templates (version 1 of each type that has no template yet)."""

from django.core.management.base import BaseCommand

from apps.documents.services import default_templates_refresh, load_default_templates


class Command(BaseCommand):
    help = ("Загрузить шаблоны документов по умолчанию (для типов, у которых ещё нет шаблона) и обновить "
            "нетронутые шаблоны по умолчанию до текста этой версии программы.")

    def handle(self, *args, **options):
        loaded = load_default_templates()
        self.stdout.write(f"Загружено шаблонов по умолчанию: {loaded}")
        refreshed = default_templates_refresh()
        self.stdout.write(f"Обновлено нетронутых шаблонов по умолчанию: {refreshed}")
