"""Load the bundled default templates (version 1 of each type that has no template yet)."""

from django.core.management.base import BaseCommand

from apps.documents.services import load_default_templates


class Command(BaseCommand):
    help = "Загрузить шаблоны документов по умолчанию (для типов, у которых ещё нет шаблона)."

    def handle(self, *args, **options):
        loaded = load_default_templates()
        self.stdout.write(f"Загружено шаблонов по умолчанию: {loaded}")
