"""Large CSV imports run as a job with a progress bar, not inside the web request (whose timeout
a 100 000-row file could exceed)."""

from __future__ import annotations

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from apps.core.storage import random_key
from apps.jobs.models import JobProgress
from apps.jobs.progress import progress_create


def rows_in(data: bytes) -> int:
    return max(0, data.strip(b"\r\n").count(b"\n"))


def goes_to_background(data: bytes, *, requested: bool = False) -> bool:
    return requested or rows_in(data) > settings.IMPORT_BACKGROUND_ROWS


@transaction.atomic
def import_clients_start(*, data: bytes, file_name: str, on_duplicate: str, actor) -> JobProgress:
    """Keep the file, record the progress row and enqueue the import — one transaction."""
    from apps.clients.tasks import import_csv

    key = default_storage.save(random_key("imports/pending", ".csv"), ContentFile(data))
    progress = progress_create(kind="clients_import", title="Импорт клиентов из CSV", actor=actor, total=rows_in(data))
    import_csv.defer(progress_id=progress.pk, key=key, file_name=file_name[:255], on_duplicate=on_duplicate,
                     actor_id=actor.pk if getattr(actor, "is_authenticated", False) else None)
    return progress
