"""Jobs of the job system itself."""

from __future__ import annotations

import logging

from django.conf import settings
from procrastinate.contrib.django import app
from procrastinate.exceptions import UniqueViolation
from procrastinate.jobs import Status

from apps.jobs.models import JobProgress
from apps.jobs.retry import Backoff
from apps.jobs.schedules import periodic

logger = logging.getLogger("travelcrm.jobs")


@periodic("retry_stalled")
@app.task(queue="default", queueing_lock="jobs.retry_stalled", pass_context=True)
async def retry_stalled_jobs(context, timestamp: int) -> int:
    """A worker killed mid-job (kill -9, OOM, power loss) leaves its job `doing` forever; once the
    worker has missed its heartbeats, put the job back in the queue so another worker runs it."""
    manager = context.app.job_manager
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=settings.JOB_STALLED_SECONDS)
    count = 0
    for job in stalled:
        try:
            await manager.retry_job(job)
        except UniqueViolation:
            # A job of the same queueing lock is already waiting (e.g. the next replies drain) and
            # does this one's work; as `todo` the two would break the lock's uniqueness. Ending the
            # stalled one also frees its `lock`, which would otherwise hold the waiting one back forever.
            await manager.finish_job(job, status=Status.FAILED, delete_job=False)
            logger.warning("stalled job ended: the same job is already waiting", extra={"job_id": job.id})
        count += 1
    if count:
        logger.warning("stalled jobs put back in the queue or ended", extra={"count": count})
    return count


EXPORT_RETRY = Backoff(max_attempts=3, base=30)


@app.task(name="jobs.export", queue="long", retry=EXPORT_RETRY, pass_context=True)
def run_export(context, *, progress_id: int, builder: str, params: dict) -> dict:
    """Build a large export (apps.jobs.exports) into a file in object storage; the progress row gets
    the file and the totals. A retry starts the file over (a half-written one is never kept)."""
    from django.utils.module_loading import import_string

    from apps.core.errors import BusinessError
    from apps.jobs.exports import export_save
    from apps.jobs.models import JobProgress
    from apps.jobs.progress import Reporter

    reporter = Reporter(progress_id)
    reporter.start()
    final = context.job.attempts + 1 >= EXPORT_RETRY.max_attempts
    try:
        export = import_string(builder)(params=params, progress=reporter)
        key, size = export_save(export)
    except BusinessError as error:  # the data refuses (e.g. a transfer without its payment order): say why
        reporter.fail(error.detail, final=True)
        return {"error": error.code}
    except Exception as error:
        reporter.fail(f"Выгрузка прервана: {type(error).__name__}. " + ("Повтор не удался." if final else "Повторим."),
                      final=final)
        raise
    JobProgress.objects.filter(pk=progress_id).update(file_key=key)
    summary = {"name": export.filename, "content_type": export.content_type, "size": size}
    if export.rows is not None:
        summary["rows"] = export.rows
    reporter.succeed(summary)
    return summary


@periodic("exports_purge")
@app.task(name="jobs.exports_purge", queue="default", queueing_lock="jobs.exports_purge")
def exports_purge_daily(timestamp: int) -> int:
    """Export files hold personal data and business figures: they are kept EXPORT_FILE_DAYS days."""
    from apps.jobs.exports import exports_purge

    return exports_purge()


@app.task(name="jobs.rotate_encryption_keys", queue="long", pass_context=True)
def rotate_encryption_keys(context, *, progress_id: int, batch_size: int = 500) -> dict:
    """`manage.py rotate_encryption_keys --background`: the same rotation, reported on its progress row.
    Not retried by itself: re-running is safe (tokens already under the new key are re-encrypted again)."""
    from apps.core.rotation import rotate_all
    from apps.jobs.progress import Reporter

    reporter = Reporter(progress_id)
    reporter.start()
    try:
        done = rotate_all(batch_size=batch_size, progress=reporter)
    except Exception as error:
        reporter.fail(f"Прервано: {type(error).__name__}. Запустите снова.", final=True)
        raise
    reporter.succeed({"rows": done})
    return {"rows": done}


def rotation_start(*, actor) -> JobProgress:
    from django.db import transaction

    from apps.core.rotation import rotation_total
    from apps.jobs.progress import progress_create

    with transaction.atomic():
        progress = progress_create(kind="rotate_encryption_keys", actor=actor, total=rotation_total(),
                                   title="Перешифрование данных новым ключом FIELD_ENCRYPTION_KEY")
        rotate_encryption_keys.defer(progress_id=progress.pk)
    return progress


@periodic("backup")
@app.task(name="jobs.backup", queue="long", queueing_lock="jobs.backup", retry=Backoff(max_attempts=3, base=600))
def backup_nightly(timestamp: int) -> dict:
    """The nightly backup (BACKUP_DIR or BACKUP_BUCKET, retention applied). A failure is logged as
    an error, retried twice, then stays `failed` in «Задачи» for the IT person."""
    from apps.jobs.backup import BackupError, backup_create
    from apps.jobs.progress import Reporter, progress_create

    reporter = Reporter(progress_create(kind="backup", title="Резервная копия").pk)
    reporter.start()
    try:
        result = backup_create(progress=reporter)
    except BackupError as error:
        logger.error("backup failed", extra={"error": str(error)[:500]})
        reporter.fail(str(error), final=True)
        raise
    summary = {"name": result.name, "size": result.size, "seconds": result.seconds, "objects": result.objects,
               "deleted": ", ".join(result.deleted)}
    reporter.succeed(summary)
    return summary
