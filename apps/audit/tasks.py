"""Background jobs of the audit app: the daily retention purge (152-FZ)."""

from procrastinate.contrib.django import app

from apps.audit.retention import retention_purge
from apps.jobs.retry import DEFAULT
from apps.jobs.schedules import periodic


@periodic("personal_data_purge")
@app.task(name="audit.purge_personal_data", queue="default", retry=DEFAULT, queueing_lock="audit.purge")
def purge_personal_data_daily(timestamp: int) -> dict:
    """Idempotent: a second run the same day finds nothing more past its term."""
    return {line.category: line.count for line in retention_purge()}
