"""manage.py purge_personal_data [--dry-run]: remove personal data past its retention term."""

from django.core.management.base import BaseCommand

from apps.audit.retention import retention_purge


class Command(BaseCommand):
    help = "Удалить персональные данные с истёкшим сроком хранения (--dry-run: только показать)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Только посчитать, ничего не удалять.")

    def handle(self, *args, dry_run: bool, **options):
        lines = retention_purge(dry_run=dry_run)
        verb = "будет удалено" if dry_run else "удалено"
        for line in lines:
            self.stdout.write(f"{line.label} (срок {line.days} дн.): {verb} {line.count}")
        self.stdout.write(f"Итого {verb}: {sum(line.count for line in lines)}")
