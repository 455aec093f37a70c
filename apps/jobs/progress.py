"""Writing a JobProgress from a job: start, tick (throttled), finish.

The caller creates the row with `progress_create` in the same transaction as it enqueues the job
(both or neither); the job passes `progress_id` and reports through `Reporter`.
"""

from __future__ import annotations

import time

from django.db.models import F
from django.utils import timezone

from apps.jobs.models import JobProgress, ProgressStatus

TICK_SECONDS = 0.5  # at most two progress writes a second, whatever the loop does


def progress_create(*, kind: str, title: str, actor=None, total: int = 0) -> JobProgress:
    creator = actor if getattr(actor, "is_authenticated", False) else None
    return JobProgress.objects.create(kind=kind, title=title[:200], created_by=creator, total=total)


class Reporter:
    """Callable (done, total) for the work's loop; writes the row at most every TICK_SECONDS."""

    def __init__(self, progress_id: int | None):
        self.progress_id = progress_id
        self._last = 0.0

    def start(self) -> None:
        self._update(status=ProgressStatus.RUNNING, started_at=timezone.now(), error="")

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last >= TICK_SECONDS or (total and done >= total):
            self._last = now
            self._update(done=done, total=max(total, done))

    def succeed(self, result: dict) -> None:
        self._update(status=ProgressStatus.SUCCEEDED, result=result, finished_at=timezone.now(), done=F("total"))

    def fail(self, message: str, *, final: bool) -> None:
        """A failed try: the row says so; `final` (no retry left) closes it."""
        fields = {"error": message[:1000]}
        if final:
            fields.update(status=ProgressStatus.FAILED, finished_at=timezone.now())
        self._update(**fields)

    def _update(self, **fields) -> None:
        if self.progress_id is not None:
            JobProgress.objects.filter(pk=self.progress_id).update(**fields)
