"""Encrypt the files stored before file encryption was switched on (idempotent, resumable).

Every FileField value without a data key (apps.core.models.StoredObjectKey) is read from object
storage and written back, encrypted, under the same key. Run once after upgrading; safe to re-run.
"""

import tempfile

from django.apps import apps
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import models

from apps.core.models import StoredObjectKey


class Command(BaseCommand):
    help = "Encrypt stored files that are still plaintext in object storage."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be encrypted.")

    def handle(self, *args, dry_run: bool, **options):
        if not hasattr(default_storage, "put_bytes"):
            raise CommandError("The configured storage does not encrypt files.")
        done = 0
        for key in sorted(self._plaintext_keys()):
            if dry_run:
                done += 1
                continue
            if not default_storage.exists(key):
                continue
            with default_storage.open(key, "rb") as source, tempfile.SpooledTemporaryFile(8 * 1024 * 1024) as copy:
                for chunk in iter(lambda: source.read(1024 * 1024), b""):
                    copy.write(chunk)
                copy.seek(0)
                default_storage._save(key, File(copy, name=key))
            done += 1
            if done % 100 == 0:
                self.stdout.write(f"… {done}")
        self.stdout.write(f"{'To encrypt' if dry_run else 'Encrypted'}: {done} files")

    @staticmethod
    def _plaintext_keys() -> set[str]:
        keys: set[str] = set()
        for model in apps.get_models():
            for field in model._meta.concrete_fields:
                if isinstance(field, models.FileField):
                    keys.update(
                        name for name in model._base_manager.exclude(**{field.attname: ""})
                        .values_list(field.attname, flat=True) if name
                    )
        known = set(StoredObjectKey.objects.filter(key__in=keys).values_list("key", flat=True))
        return keys - known
