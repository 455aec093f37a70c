"""manage.py backup — an encrypted backup of the database and every stored file, then retention."""

import logging

from django.core.management.base import BaseCommand, CommandError

from apps.jobs.backup import BackupError, Destination, backup_create

logger = logging.getLogger("travelcrm.backup")


class Command(BaseCommand):
    help = "Создать зашифрованную резервную копию базы и всех файлов, затем удалить лишние старые копии."

    def add_arguments(self, parser):
        parser.add_argument("--dir", default="", help="Каталог для копии (вместо BACKUP_DIR / BACKUP_BUCKET).")

    def handle(self, *args, dir="", **options):  # noqa: A002
        try:
            destination = Destination(directory=dir) if dir else Destination.from_settings()
            result = backup_create(destination=destination)
        except Exception as error:  # noqa: BLE001 — any failed part: an error in the log, exit code 1
            detail = str(error) if isinstance(error, BackupError) else f"{type(error).__name__}: {error}"
            logger.error("backup failed", extra={"error": detail[:500]})
            raise CommandError(f"Резервная копия НЕ создана: {detail[:500]}") from None
        self.stdout.write(
            f"Копия {result.name}: {result.size / 1024 / 1024:.1f} МБ, {result.rows} строк, "
            f"{result.objects} файлов, {result.seconds} с."
        )
        if result.deleted:
            self.stdout.write(f"Удалены старые копии: {', '.join(result.deleted)}")
