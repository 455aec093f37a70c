"""«Ход длительных задач»: a progress bar per job and a result page that refreshes itself."""

import json

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from procrastinate import utils
from procrastinate.contrib.django.models import ProcrastinateJob

from apps.core.admin import ReadOnlyAdmin
from apps.jobs.models import (
    EVENT_LABELS,
    QUEUE_LABELS,
    STATUS_LABELS,
    TASK_TITLES,
    JobProgress,
    ProgressStatus,
    QueueEvent,
    QueueJob,
)


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} мин {seconds:02d} с" if minutes else f"{seconds} с"


@admin.register(JobProgress)
class JobProgressAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "progress_bar", "time_left", "created_by", "created_at", "finished_at"]
    list_filter = ["status", "kind"]
    fields = ["title", "status", "progress_bar", "time_left", "result_table", "file_link", "error", "created_by",
              "created_at", "started_at", "finished_at"]
    readonly_fields = fields
    change_form_template = "admin/jobs/jobprogress/change_form.html"

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("created_by")
        return queryset if request.user.has_perm("jobs.view_jobprogress") else queryset.filter(created_by=request.user)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        if request.user.has_perm("jobs.view_jobprogress"):
            return True
        return request.user.is_staff and (obj is None or obj.created_by_id == request.user.pk)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description="ход")
    def progress_bar(self, obj):
        return format_html(
            '<progress max="100" value="{}" style="width:12em"></progress> {}% ({} из {})',
            obj.percent, obj.percent, obj.done, obj.total or "?",
        )

    @admin.display(description="осталось")
    def time_left(self, obj):
        return _duration(obj.seconds_left) if obj.status == ProgressStatus.RUNNING else "—"

    @admin.display(description="файл")
    def file_link(self, obj):
        """The export's file (a short-lived link). Whoever sees the row may take it: its author, or a
        supervisor (jobs.view_jobprogress) — the same rule as GET /api/v1/jobs/{id}/."""
        from apps.jobs.exports import export_file_url

        url = export_file_url(obj)
        return format_html('<a href="{}">Скачать {}</a>', url, (obj.result or {}).get("name", "")) if url else "—"

    @admin.display(description="итог")
    def result_table(self, obj):
        result = obj.result or {}
        totals = result.get("totals") or {k: v for k, v in result.items() if not isinstance(v, list | dict)}
        pairs = ((LABELS.get(k, k), v) for k, v in totals.items())
        rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", pairs)
        rejected = [
            (r["line"], ", ".join(f"{e['field'] or '—'} ({e['code']})" for e in r["errors"]))
            for r in (result.get("rejected_rows") or [])[:200]
        ]
        lines = format_html_join("", "<li>строка {}: {}</li>", rejected)
        return format_html("<table>{}</table>{}", rows or "—",
                           format_html("<p>Отклонены:</p><ul>{}</ul>", lines) if rejected else "")


LABELS = {
    "rows": "строк", "created": "создано", "updated": "дополнено", "duplicate": "дубликатов", "rejected": "отклонено",
    "name": "файл", "size": "размер, байт", "content_type": "тип", "seconds": "секунд", "objects": "файлов",
    "deleted": "удалены", "parts": "частей",
}


# --- «Очередь задач»: Procrastinate's jobs and events, in Russian -----------------------------------

class _LabelledFilter(admin.SimpleListFilter):
    labels: dict[str, str] = {}
    field = ""

    def lookups(self, request, model_admin):
        return list(self.labels.items())

    def queryset(self, request, queryset):
        return queryset.filter(**{self.field: self.value()}) if self.value() else queryset


class StatusFilter(_LabelledFilter):
    title, parameter_name, field, labels = "статус", "status", "status", STATUS_LABELS


class QueueFilter(_LabelledFilter):
    title, parameter_name, field, labels = "очередь", "queue", "queue_name", QUEUE_LABELS


class TaskFilter(_LabelledFilter):
    title, parameter_name, field, labels = "задача", "task", "task_name", TASK_TITLES


class QueueEventInline(admin.TabularInline):
    model = QueueEvent
    fk_name = "job"
    fields = ["event", "when"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name, verbose_name_plural = "событие", "история задачи"
    ordering = ["-at"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="событие")
    def event(self, obj):
        return EVENT_LABELS.get(obj.type, obj.type)

    @admin.display(description="когда")
    def when(self, obj):
        return _local(obj.at)


@admin.register(QueueJob)
class QueueJobAdmin(ReadOnlyAdmin):
    """Every job of the queue: what it is, where it stands, its attempts and history; a failed one can
    be run again, a waiting one cancelled (the supervisor; the same rows as Procrastinate's tables)."""

    list_display = ["number", "title", "status_label", "queue_label", "attempts_made", "scheduled", "last_event"]
    list_display_links = ["number", "title"]
    list_filter = [StatusFilter, QueueFilter, TaskFilter]
    fields = ["number", "title", "code", "status_label", "queue_label", "attempts_made", "scheduled", "arguments",
              "locks"]
    readonly_fields = fields
    inlines = [QueueEventInline]
    ordering = ["-id"]
    show_full_result_count = False
    actions = ["retry", "cancel"]

    def get_queryset(self, request):
        from django.db.models import Prefetch

        events = QueueEvent.objects.order_by("-at")
        return super().get_queryset(request).prefetch_related(Prefetch("procrastinateevent_set", queryset=events))

    @admin.display(description="№", ordering="id")
    def number(self, obj):
        return obj.pk

    @admin.display(description="задача", ordering="task_name")
    def title(self, obj):
        return obj.title

    @admin.display(description="код задачи")
    def code(self, obj):
        return obj.task_name

    @admin.display(description="попыток", ordering="attempts")
    def attempts_made(self, obj):
        return obj.attempts

    @admin.display(description="запланирована на", ordering="scheduled_at")
    def scheduled(self, obj):
        return _local(obj.scheduled_at) or "сразу"

    @admin.display(description="блокировки")
    def locks(self, obj):
        return ", ".join(filter(None, [obj.lock, obj.queueing_lock])) or "—"

    @admin.display(description="статус", ordering="status")
    def status_label(self, obj):
        return STATUS_LABELS.get(obj.status, obj.status)

    @admin.display(description="очередь", ordering="queue_name")
    def queue_label(self, obj):
        return QUEUE_LABELS.get(obj.queue_name, obj.queue_name)

    @admin.display(description="последнее событие")
    def last_event(self, obj):
        events = list(obj.procrastinateevent_set.all())
        if not events:
            return "—"
        return f"{EVENT_LABELS.get(events[0].type, events[0].type)} {_local(events[0].at)}".strip()

    @admin.display(description="параметры")
    def arguments(self, obj):
        return format_html('<pre style="margin:0">{}</pre>', json.dumps(obj.args, ensure_ascii=False, indent=1)[:2000])

    @admin.action(description="Повторить выбранные (с ошибкой или зависшие)")
    def retry(self, request, queryset):
        manager = _job_manager()
        jobs = list(queryset.filter(status__in=("failed", "doing")))
        for job in jobs:
            manager.retry_job_by_id(job.id, utils.utcnow(), job.priority, job.queue_name, job.lock)
        self.message_user(request, f"Снова в очереди: {len(jobs)}.", messages.SUCCESS)

    @admin.action(description="Отменить выбранные (только ещё не начатые)")
    def cancel(self, request, queryset):
        manager = _job_manager()
        cancelled = sum(bool(manager.cancel_job_by_id(job.id, abort=False))
                        for job in queryset.filter(status="todo"))
        self.message_user(request, f"Отменено: {cancelled}.", messages.SUCCESS)


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M:%S") if moment else ""


def _job_manager():
    from procrastinate.contrib.django import procrastinate_app

    return procrastinate_app.current_app.job_manager


# Procrastinate registers its own (English) admin of the same rows: «Очередь задач» above replaces it.
if admin.site.is_registered(ProcrastinateJob):
    admin.site.unregister(ProcrastinateJob)
