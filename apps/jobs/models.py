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


# --- The job queue (Procrastinate's tables) in the admin, in Russian -------------------------------
# Procrastinate's own admin is English and names its app «Procrastinate»; these proxies give the
# same rows Russian names under «Фоновые задачи» (apps/jobs/admin.py), with their own permissions.

from procrastinate.contrib.django.models import ProcrastinateEvent, ProcrastinateJob  # noqa: E402

STATUS_LABELS = {
    "todo": "в очереди", "doing": "выполняется", "succeeded": "выполнена", "failed": "ошибка",
    "cancelled": "отменена", "aborting": "прерывается", "aborted": "прервана",
}
EVENT_LABELS = {
    "deferred": "поставлена в очередь", "started": "начата", "deferred_for_retry": "отложена до повтора",
    "failed": "ошибка", "succeeded": "выполнена", "cancelled": "отменена", "abort_requested": "запрошена отмена",
    "aborted": "прервана", "scheduled": "запланирована",
}
QUEUE_LABELS = {"default": "общая", "replies": "ответы клиентам", "intake": "приём сообщений", "long": "длительные"}
TASK_TITLES = {
    "accounts.sessions_purge": "Удаление истёкших сессий",
    "audit.purge_personal_data": "Удаление персональных данных по срокам хранения",
    "audit.rotate_blind_index": "Смена ключа поиска по зашифрованным полям",
    "clients.import_csv": "Импорт клиентов из CSV",
    "finance.fetch_rates": "Загрузка курсов ЦБ",
    "finance.fetch_rates_daily": "Ежедневная загрузка курсов ЦБ",
    "integrations.answer_callback": "Ответ на нажатие кнопки в Telegram",
    "integrations.drain_replies": "Отправка ответов в Telegram (общая очередь)",
    "integrations.fetch_media": "Загрузка вложений сообщения",
    "integrations.notify_new_lead": "Уведомление менеджеров о новой заявке",
    "integrations.poll_mailbox": "Проверка почтового ящика",
    "integrations.poll_mailboxes": "Проверка почтовых ящиков",
    "integrations.reprocess_inbox": "Повторная обработка входящих",
    "integrations.send_outbound": "Отправка сообщения",
    "jobs.backup": "Резервная копия",
    "jobs.export": "Выгрузка файла",
    "jobs.exports_purge": "Удаление старых выгрузок",
    "jobs.rotate_encryption_keys": "Смена ключей шифрования",
    "apps.jobs.tasks.retry_stalled_jobs": "Возврат зависших задач в очередь",
}



class QueueJob(ProcrastinateJob):
    class Meta:
        proxy = True
        verbose_name = "задача очереди"
        verbose_name_plural = "очередь задач"

    @property
    def title(self) -> str:
        return TASK_TITLES.get(self.task_name, self.task_name)

    def __str__(self) -> str:
        return f"{self.title} (№ {self.pk})"


class QueueEvent(ProcrastinateEvent):
    class Meta:
        proxy = True
        verbose_name = "событие задачи"
        verbose_name_plural = "события задач"

    def __str__(self) -> str:
        return ""  # the inline's row shows the event and its time in their own columns
