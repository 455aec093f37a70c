"""manage.py restore <backup file> — restore into an EMPTY database and bucket, checked against
the backup's manifest (docs/operations.md «Восстановление»)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.jobs.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = "Восстановить резервную копию в пустую базу и пустой bucket и сверить с описанием копии."

    def add_arguments(self, parser):
        parser.add_argument("backup", help="Файл копии travelcrm-….tar.age")
        parser.add_argument("--identity", action="append", default=[], help="Файл закрытого ключа age.")

    def handle(self, *args, backup, identity, **options):
        identities = identity or ([settings.BACKUP_AGE_IDENTITY_FILE] if settings.BACKUP_AGE_IDENTITY_FILE else [])
        try:
            result = backup_restore(source=backup, identity_files=identities)
        except (BackupError, OSError) as error:
            raise CommandError(f"Восстановление НЕ выполнено: {error}") from None
        self.stdout.write(
            f"Восстановлено из {result.name} (версия {result.app_version}): {result.rows} строк, "
            f"{result.objects} файлов, {result.seconds} с. Строки и файлы сверены с описанием копии."
        )
        if result.migrations_behind:
            newer = ", ".join(result.migrations_behind[:5])
            self.stdout.write(f"Код новее копии: выполните `python manage.py migrate` ({newer}).")
