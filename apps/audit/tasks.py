"""Background jobs of the audit app: the daily retention purge (152-FZ), the blind-index rotation."""

from procrastinate.contrib.django import app

from apps.audit.retention import retention_purge
from apps.jobs.retry import DEFAULT
from apps.jobs.schedules import periodic


@periodic("personal_data_purge")
@app.task(name="audit.purge_personal_data", queue="default", retry=DEFAULT, queueing_lock="audit.purge")
def purge_personal_data_daily(timestamp: int) -> dict:
    """Idempotent: a second run the same day finds nothing more past its term."""
    return {line.category: line.count for line in retention_purge()}


@app.task(name="audit.rotate_blind_index", queue="long")
def rotate_blind_index(*, progress_id: int, restart: bool = False) -> None:
    """`manage.py rotate_blind_index --background`: resumable, so a re-run goes on where it stopped."""
    import io

    from django.core.management import call_command

    args = ["--progress-id", str(progress_id)] + (["--restart"] if restart else [])
    call_command("rotate_blind_index", *args, stdout=io.StringIO())


def blind_index_rotation_start(*, actor, restart: bool = False):
    from django.db import transaction

    from apps.audit.management.commands.rotate_blind_index import TITLE, rotation_total
    from apps.jobs.progress import progress_create

    with transaction.atomic():
        progress = progress_create(kind="rotate_blind_index", title=TITLE, actor=actor, total=rotation_total())
        rotate_blind_index.defer(progress_id=progress.pk, restart=restart)
    return progress
