"""«Ход длительных задач»: a progress bar per job and a result page that refreshes itself."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from apps.jobs.models import JobProgress, ProgressStatus


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
