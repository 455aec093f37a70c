"""Re-encrypt every encrypted field (and every file's data key) with the first key of FIELD_ENCRYPTION_KEY.

Key rotation: put the new key first, keep the old ones after it, run this command, then remove the
old keys. Progress (done / total, time left) is on the admin page «Ход длительных задач» as it runs;
--background runs it as a job of the worker instead (the worker must have the new keys too).
"""

from django.core.management.base import BaseCommand

from apps.core.rotation import rotate_all, rotation_total
from apps.jobs.progress import Reporter, progress_create

TITLE = "Перешифрование данных новым ключом FIELD_ENCRYPTION_KEY"


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields with the first key of FIELD_ENCRYPTION_KEY."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--background", action="store_true", help="Run it as a job of the worker.")

    def handle(self, *args, batch_size: int, background: bool, **options):
        if background:
            from apps.jobs.tasks import rotation_start

            progress = rotation_start(actor=None)
            self.stdout.write(f"Поставлено в очередь: задача {progress.pk} («Ход длительных задач» в админке)")
            return
        reporter = Reporter(progress_create(kind="rotate_encryption_keys", title=TITLE, total=rotation_total()).pk)
        reporter.start()
        try:
            done = rotate_all(batch_size=batch_size, progress=reporter,
                              on_model=lambda label, count: self.stdout.write(f"{label}: {count} rows re-encrypted"))
        except Exception as error:
            reporter.fail(f"Прервано: {type(error).__name__}. Запустите снова: повторное шифрование безопасно.",
                          final=True)
            raise
        reporter.succeed({"rows": done})
