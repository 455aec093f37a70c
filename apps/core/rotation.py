"""Re-encrypt every encrypted field with the newest key (the first in FIELD_ENCRYPTION_KEY).

Works through the tokens (MultiFernet.rotate), so values are never decrypted into Python objects;
rows are updated in batches, one transaction per batch. File data keys (StoredObjectKey) are
encrypted fields too, so files are covered without rewriting any object.
"""

from __future__ import annotations

from collections.abc import Callable

from django.apps import apps
from django.db import transaction

from apps.core import queries
from apps.core.crypto import encrypted_fields, rotate_token


def encrypted_models() -> list[tuple[type, list[str]]]:
    return [(model, [field.attname for field in fields]) for model in apps.get_models()
            if (fields := encrypted_fields(model))]


def rotation_total() -> int:
    """Rows the rotation will go through (for the progress bar)."""
    return sum(model._base_manager.count() for model, _ in encrypted_models())


def rotate_all(*, batch_size: int = 500, progress: Callable[[int, int], None] | None = None,
               on_model: Callable[[str, int], None] | None = None) -> int:
    """Rotate every encrypted row; `progress(done, total)` after each batch, `on_model(label, count)`
    after each model. Returns the number of rows."""
    total = rotation_total() if progress else 0
    done = 0
    for model, columns in encrypted_models():
        count = 0
        for batch in _batches(model, batch_size):
            with transaction.atomic():
                _rotate_batch(model, columns, batch)
            count += len(batch)
            done += len(batch)
            if progress:
                progress(done, max(total, done))
        if on_model:
            on_model(model._meta.label, count)
    return done


def _batches(model, batch_size: int):
    manager = model._base_manager
    last_pk = None
    while True:
        rows = manager.order_by("pk")
        if last_pk is not None:
            rows = rows.filter(pk__gt=last_pk)
        batch = list(rows.values_list("pk", flat=True)[:batch_size])
        if not batch:
            return
        yield batch
        last_pk = batch[-1]


def _rotate_batch(model, columns: list[str], pks: list) -> None:
    rows = queries.tokens_locked(model, columns, pks)
    rotated = [(pk, [rotate_token(token) if token else token for token in tokens]) for pk, *tokens in rows]
    queries.tokens_write_many(model, columns, rotated)
