"""Re-encrypt every encrypted field with the newest key (the first in FIELD_ENCRYPTION_KEY).

Key rotation: put the new key first, keep the old ones after it, run this command, then remove
the old keys. Works through the tokens (MultiFernet.rotate), so values are never decrypted into
Python objects and rows are updated in batches, one transaction per batch.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.core import queries
from apps.core.crypto import encrypted_fields, rotate_token


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields with the first key of FIELD_ENCRYPTION_KEY."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options):
        for model in apps.get_models():
            fields = encrypted_fields(model)
            if fields:
                count = self._rotate_model(model, [field.attname for field in fields], batch_size)
                self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted")

    def _rotate_model(self, model, columns: list[str], batch_size: int) -> int:
        manager = model._base_manager
        last_pk, total = None, 0
        while True:
            rows = manager.order_by("pk")
            if last_pk is not None:
                rows = rows.filter(pk__gt=last_pk)
            batch = list(rows.values_list("pk", flat=True)[:batch_size])
            if not batch:
                return total
            with transaction.atomic():
                self._rotate_batch(model, columns, batch)
            total += len(batch)
            last_pk = batch[-1]

    @staticmethod
    def _rotate_batch(model, columns: list[str], pks: list) -> None:
        rows = queries.tokens_locked(model, columns, pks)
        rotated = [(pk, [rotate_token(token) if token else token for token in tokens]) for pk, *tokens in rows]
        queries.tokens_write_many(model, columns, rotated)
