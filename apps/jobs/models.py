"""The progress of long work done by a job (imports, exports, backups, key rotation)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ProgressStatus(models.TextChoices):
    QUEUED = "queued", "в очереди"
    RUNNING = "running", "выполняется"
    SUCCEEDED = "succeeded", "готово"
    FAILED = "failed", "ошибка"


class JobProgress(models.Model):
    """One piece of long work a person started and waits for: what is done of how much, and the
    result. Written by the job as it goes; read by the admin page and GET /api/v1/jobs/{id}/."""

    kind = models.CharField("вид", max_length=40, db_index=True)
    title = models.CharField("задача", max_length=200)
    status = models.CharField("статус", max_length=16, choices=ProgressStatus.choices, default=ProgressStatus.QUEUED)
    done = models.PositiveBigIntegerField("сделано", default=0)
    total = models.PositiveBigIntegerField("всего", default=0)
    result = models.JSONField("результат", default=dict, blank=True)  # totals, never personal data
    error = models.CharField("ошибка", max_length=1000, blank=True)
    # An export's file in object storage (encrypted like every file); "" once purged (EXPORT_FILE_DAYS).
    file_key = models.CharField("файл результата", max_length=255, blank=True, default="", editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="запустил", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField("поставлена", auto_now_add=True)
    started_at = models.DateTimeField("начата", null=True, blank=True)
    finished_at = models.DateTimeField("завершена", null=True, blank=True)

    class Meta:
        verbose_name = "ход задачи"
        verbose_name_plural = "ход длительных задач"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if self.status == ProgressStatus.SUCCEEDED:
            return 100
        return min(99, int(self.done * 100 / self.total)) if self.total else 0

    @property
    def seconds_left(self) -> int | None:
        """Time left at the pace so far; None until there is a pace to go by."""
        if self.status != ProgressStatus.RUNNING or not self.started_at or not self.done or not self.total:
            return None
        elapsed = (timezone.now() - self.started_at).total_seconds()
        return max(0, int(elapsed / self.done * (self.total - self.done)))
