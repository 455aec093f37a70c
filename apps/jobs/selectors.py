"""Reads about the job queue: how late it is (for /health/ready and the admin)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateEvent, ProcrastinateJob, ProcrastinateWorker


@dataclass(frozen=True)
class QueueHealth:
    oldest_waiting_seconds: float | None  # the longest a due job has waited for a worker; None: none waits
    last_heartbeat_seconds: float | None  # since any worker last said it is alive; None: no worker ever

    @property
    def status(self) -> str:
        """ok / degraded (jobs wait too long, or no worker is alive while jobs wait)."""
        lag = settings.JOB_LAG_DEGRADED_SECONDS
        if self.oldest_waiting_seconds is not None and self.oldest_waiting_seconds > lag:
            return "degraded"
        heartbeat = self.last_heartbeat_seconds
        worker_silent = heartbeat is None or heartbeat > settings.JOB_STALLED_SECONDS
        if worker_silent and self.oldest_waiting_seconds is not None:
            return "degraded"
        return "ok"


def _age(now: datetime, moment: datetime | None) -> float | None:
    return None if moment is None else round(max(0.0, (now - moment).total_seconds()), 1)


def queue_health() -> QueueHealth:
    """Two aggregate statements over the small `todo` part of the queue and the workers table."""
    now = timezone.now()
    deferred_at = ProcrastinateEvent.objects.filter(job=OuterRef("pk"), type="deferred").values("at")[:1]
    oldest = (
        ProcrastinateJob.objects.filter(status="todo")
        .filter(Q(scheduled_at__isnull=True) | Q(scheduled_at__lte=now))
        .annotate(due_since=Coalesce("scheduled_at", Subquery(deferred_at)))
        .aggregate(oldest=Min("due_since"))["oldest"]
    )
    heartbeat = ProcrastinateWorker.objects.aggregate(last=Max("last_heartbeat"))["last"]
    return QueueHealth(oldest_waiting_seconds=_age(now, oldest), last_heartbeat_seconds=_age(now, heartbeat))
