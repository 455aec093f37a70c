"""GET /api/v1/jobs/{id}/ — the progress of long work started through the API (a background
CSV import answers 202 with its `job_id`): poll until `status` is succeeded or failed."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from apps.jobs.models import JobProgress
from travelcrm.api import BaseAPIView, ErrorSerializer


class JobProgressSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)
    seconds_left = serializers.IntegerField(read_only=True, allow_null=True, help_text="Оценка по темпу до сих пор.")
    result = serializers.JSONField(read_only=True, help_text="Итоги (для импорта — totals и отклонённые строки).")
    file_url = serializers.SerializerMethodField(
        help_text="Выгрузка готова: короткоживущая ссылка на файл; иначе null.")

    class Meta:
        model = JobProgress
        fields = ["id", "kind", "title", "status", "done", "total", "percent", "seconds_left", "result", "error",
                  "file_url", "created_at", "started_at", "finished_at"]
        read_only_fields = fields

    def get_file_url(self, progress) -> str | None:
        from apps.jobs.exports import export_file_url

        return export_file_url(progress)  # the view lets only the author or a supervisor see the row


class JobProgressView(BaseAPIView):
    # Any signed-in user; the object rule below: one's own work, or all of it with jobs.view_jobprogress.
    required_permissions: list[str] = []

    @extend_schema(
        tags=["jobs"],
        summary="Ход длительной задачи: сделано, всего, осталось времени, итог",
        responses={200: JobProgressSerializer, 404: ErrorSerializer},
        examples=[OpenApiExample("Импорт идёт", response_only=True, value={
            "id": 42, "kind": "clients_import", "title": "Импорт клиентов из CSV", "status": "running",
            "done": 36000, "total": 100000, "percent": 36, "seconds_left": 71, "result": {}, "error": "",
            "file_url": None,
            "created_at": "2026-12-05T09:00:00+03:00", "started_at": "2026-12-05T09:00:01+03:00",
            "finished_at": None})],
    )
    def get(self, request, id: int):  # noqa: A002 — the path parameter's name
        progress = JobProgress.objects.filter(pk=id).first()
        allowed = progress is not None and (
            progress.created_by_id == request.user.pk or request.user.has_perm("jobs.view_jobprogress")
        )
        if not allowed:
            raise NotFound("Задача не найдена.")
        return Response(JobProgressSerializer(progress).data)
