"""Jobs of the job system itself."""

from __future__ import annotations

import logging

from django.conf import settings
from procrastinate.contrib.django import app

from apps.jobs.retry import Backoff
from apps.jobs.schedules import periodic

logger = logging.getLogger("travelcrm.jobs")


@periodic("retry_stalled")
@app.task(queue="default", queueing_lock="jobs.retry_stalled", pass_context=True)
async def retry_stalled_jobs(context, timestamp: int) -> int:
    """A worker killed mid-job (kill -9, OOM, power loss) leaves its job `doing` forever; once the
    worker has missed its heartbeats, put the job back in the queue so another worker runs it."""
    stalled = await context.app.job_manager.get_stalled_jobs(seconds_since_heartbeat=settings.JOB_STALLED_SECONDS)
    count = 0
    for job in stalled:
        await context.app.job_manager.retry_job(job)
        count += 1
    if count:
        logger.warning("stalled jobs put back in the queue", extra={"count": count})
    return count


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
