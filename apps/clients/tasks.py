"""Jobs of the clients app: the CSV import of a large file, with its progress bar."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from procrastinate.contrib.django import app

from apps.clients.imports.reader import ImportFileError
from apps.clients.imports.service import REJECTED, ImportReport, import_clients
from apps.jobs.progress import Reporter
from apps.jobs.retry import Backoff

IMPORT_RETRY = Backoff(max_attempts=3, base=30)
MAX_REJECTED_IN_RESULT = 1000


@app.task(name="clients.import_csv", queue="long", retry=IMPORT_RETRY, pass_context=True)
def import_csv(context, *, progress_id: int, key: str, file_name: str, on_duplicate: str, actor_id: int | None):
    """Import an uploaded CSV (kept under `key` until done). Batches commit as they go, so a retry
    after a crash finds the rows already imported as duplicates and goes on."""
    reporter = Reporter(progress_id)
    reporter.start()
    final = context.job.attempts + 1 >= IMPORT_RETRY.max_attempts
    try:
        with default_storage.open(key) as handle:
            data = handle.read()
        actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
        report = import_clients(data=data, file_name=file_name, dry_run=False, on_duplicate=on_duplicate,
                                actor=actor, progress=reporter)
    except ImportFileError as error:
        reporter.fail(error.detail, final=True)
        default_storage.delete(key)
        return {"error": error.code}
    except Exception as error:
        reporter.fail(f"Импорт прерван: {type(error).__name__}. " + ("Повтор не удался." if final else "Повторим."),
                      final=final)
        if final:
            default_storage.delete(key)
        raise
    reporter.succeed(import_result(report))
    default_storage.delete(key)
    return report.totals


def import_result(report: ImportReport) -> dict:
    """What the result page shows: totals and the rejected lines with field and reason code (no
    values: they may be personal data)."""
    rejected = [
        {"line": o.line, "errors": [{"field": e.field, "code": e.code} for e in o.errors]}
        for o in report.outcomes if o.status == REJECTED
    ][:MAX_REJECTED_IN_RESULT]
    return {"totals": report.totals, "rejected_rows": rejected}
