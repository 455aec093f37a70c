"""Large exports run as a job: the file is written to object storage (encrypted like every file) and
the person gets a link on the progress page (admin «Ход длительных задач», GET /api/v1/jobs/{id}/).

The app that owns an export writes a *builder*: a function `(params: dict, progress: Reporter) ->
Export` importable by its dotted path (jobs sits below the apps, so it names them by string, and a
job's arguments must be JSON anyway). `export_start` records the progress row and enqueues the job
in one transaction; the entry point (an API view, an admin action) answers with the job id.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from apps.core.auditing import audit_event
from apps.jobs.models import JobProgress
from apps.jobs.progress import progress_create

EXPORT_PREFIX = "exports"


@dataclass
class Export:
    filename: str
    content_type: str
    chunks: Iterable[bytes]  # the file, made as it is read: never whole in memory
    rows: int | None = None


@transaction.atomic
def export_start(*, builder: str, params: dict, title: str, actor, total: int = 0) -> JobProgress:
    """Record the progress row and enqueue the export job (both or neither)."""
    from apps.jobs.tasks import run_export

    progress = progress_create(kind="export", title=title, actor=actor, total=total)
    run_export.defer(progress_id=progress.pk, builder=builder, params=params)
    # Every export is in the audit log with its filters (issue 14); a file answer gets its entry from
    # the access-log middleware, a job's start gets it here. The ids of a selection are counted only.
    shown = {key: (f"{len(value)} шт." if isinstance(value, list) else value) for key, value in params.items()}
    audit_event(event="export", model=JobProgress, actor=actor, repr_text=f"Выгрузка (фоном): {title}"[:200],
                data={"job": progress.pk, "builder": builder.rsplit(".", 1)[-1], "filters": shown})
    return progress


def counted(rows: Iterable, progress, total: int) -> Iterator:
    """Pass rows through, telling `progress` (done, total) as they go."""
    done = 0
    for done, row in enumerate(rows, 1):
        if done % 500 == 0:
            progress(done, total)
        yield row
    progress(done, max(total, done))


class _ChunkReader(io.RawIOBase):
    """A readable file over an iterator of bytes: storage uploads it as it is produced."""

    def __init__(self, chunks: Iterable[bytes]):
        super().__init__()
        self._chunks = iter(chunks)
        self._buffer = b""
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        count = min(len(target), len(self._buffer))
        target[:count] = self._buffer[:count]
        self._buffer = self._buffer[count:]
        self.size += count
        return count


def export_save(export: Export) -> tuple[str, int]:
    """Write the export to storage under a random key; returns (key, size in bytes)."""
    from apps.core.storage import random_key

    reader = _ChunkReader(export.chunks)
    key = default_storage.save(random_key(EXPORT_PREFIX, export.filename), File(io.BufferedReader(reader),
                                                                                  name=export.filename))
    return key, reader.size


def export_file_url(progress: JobProgress) -> str | None:
    """A short-lived download link to the finished export's file (the app decrypts and streams it)."""
    from apps.core.files import presigned_download_url

    result = progress.result or {}
    if not progress.file_key or progress.status != "succeeded":
        return None
    return presigned_download_url(progress.file_key, filename=result.get("name") or "export",
                                  content_type=result.get("content_type"))


def exports_purge(*, now=None) -> int:
    """Delete export files older than EXPORT_FILE_DAYS (the rows stay, without their file)."""
    before = (now or timezone.now()) - timezone.timedelta(days=settings.EXPORT_FILE_DAYS)
    stale = JobProgress.objects.filter(finished_at__lt=before).exclude(file_key="")
    count = 0
    for progress in stale:
        default_storage.delete(progress.file_key)
        JobProgress.objects.filter(pk=progress.pk).update(file_key="")
        count += 1
    return count
