"""API of the CSV import: POST /api/v1/clients/import/ and GET /api/v1/clients/import/example/."""

import csv
import io

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from apps.clients.imports.background import goes_to_background, import_clients_start
from apps.clients.imports.columns import EXAMPLE_HEADER, EXAMPLE_ROWS
from apps.clients.imports.reader import ImportFileError, max_import_bytes, open_csv, read_upload, too_large_error
from apps.clients.imports.service import import_clients
from apps.core.files import content_disposition
from apps.core.heavy import heavy_slot
from travelcrm.api import BaseAPIView, ErrorSerializer, StrictBooleanField, StrictCharField


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(
        required=False, allow_empty_file=True,
        help_text="CSV: UTF-8 (с BOM или без) или Windows-1251, разделитель «;» или «,». Столбцы — см. пример.",
    )
    dry_run = StrictBooleanField(default=False, help_text="true — только проверить, ничего не записывать.")
    # A plain string (the service checks it) so the schema has no extra enum named like the clients' one.
    on_duplicate = StrictCharField(
        default="skip",
        help_text="skip — найденных клиентов пропустить; update — дополнить их недостающими данными.",
    )
    background = StrictBooleanField(
        default=False,
        help_text="true — выполнить фоновой задачей (ответ 202 с job_id). Файл больше IMPORT_BACKGROUND_ROWS "
        "строк (по умолчанию 5000) всегда импортируется в фоне; пробный прогон — всегда сразу.",
    )


class RowErrorSerializer(serializers.Serializer):
    field = StrictCharField()
    code = StrictCharField(help_text="missing_name, bad_phone, bad_email, bad_date, bad_passport, …")
    message = StrictCharField()


class RowResultSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Номер строки в файле (заголовок — строка 1).")
    status = StrictCharField(help_text="created | updated | duplicate | rejected")
    client_id = serializers.IntegerField(allow_null=True)
    client_name = StrictCharField(required=False)
    duplicate_of_line = serializers.IntegerField(required=False)
    matched_on = serializers.ListField(child=StrictCharField(), required=False)
    errors = RowErrorSerializer(many=True, required=False)
    matches = serializers.ListField(child=serializers.DictField(), required=False)


class TotalsSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    rejected = serializers.IntegerField()


class ImportReportSerializer(serializers.Serializer):
    dry_run = StrictBooleanField()
    on_duplicate = StrictCharField()
    encoding = StrictCharField()
    delimiter = StrictCharField()
    unknown_columns = serializers.ListField(child=StrictCharField())
    totals = TotalsSerializer()
    rows = RowResultSerializer(many=True)


class ImportStartedSerializer(serializers.Serializer):
    job_id = serializers.IntegerField(help_text="Ход и итог: GET /api/v1/jobs/{job_id}/")
    status_url = StrictCharField()


class ClientImportView(BaseAPIView):
    parser_classes = [MultiPartParser, FormParser]

    required_permissions = ["clients.add_client"]

    @extend_schema(
        tags=["clients"],
        summary="Импорт клиентов из CSV (с пробным прогоном)",
        request={"multipart/form-data": ImportRequestSerializer},
        responses={200: ImportReportSerializer, 202: ImportStartedSerializer, 400: ErrorSerializer},
    )
    def post(self, request):
        _refuse_oversized_body(request)
        serializer = ImportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data["on_duplicate"] == "update" and not request.user.has_perm("clients.change_client"):
            raise PermissionDenied("Дополнять существующих клиентов может только тот, кому разрешено их изменять.")
        uploaded = serializer.validated_data.get("file")
        data = read_upload(uploaded)
        options = serializer.validated_data
        if not options["dry_run"] and goes_to_background(data, requested=options["background"]):
            open_csv(data)  # a file that is not a CSV at all is refused now, not in the job
            progress = import_clients_start(data=data, file_name=getattr(uploaded, "name", "") or "",
                                            on_duplicate=options["on_duplicate"], actor=request.user)
            url = reverse("job-progress", kwargs={"id": progress.pk})
            return Response({"job_id": progress.pk, "status_url": url}, status=202, headers={"Location": url})
        with heavy_slot():  # run inside the request (a job is not): may not hold every web worker (503 server_busy)
            report = import_clients(
                data=data,
                file_name=getattr(uploaded, "name", "") or "",
                dry_run=serializer.validated_data["dry_run"],
                on_duplicate=serializer.validated_data["on_duplicate"],
                actor=request.user,
            )
        return Response(report.as_dict())


class ClientImportExampleView(BaseAPIView):
    required_permissions = ["clients.view_client"]

    @extend_schema(
        tags=["clients"],
        summary="Пример CSV-файла для импорта клиентов (все столбцы)",
        responses={(200, "text/csv"): OpenApiResponse(description="CSV в UTF-8 с BOM, разделитель «;».")},
    )
    def get(self, request):
        return HttpResponse(
            example_csv(),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": content_disposition("clients_import_example.csv"),
                     "X-Content-Type-Options": "nosniff"},
        )


def _refuse_oversized_body(request) -> None:
    """A body far over the limit is refused from its Content-Length, before it is read."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > max_import_bytes() + 1024 * 1024:
        raise too_large_error(max_import_bytes())


def example_csv() -> bytes:
    """UTF-8 with BOM and ";" — opens correctly in Excel on a Russian Windows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(EXAMPLE_HEADER)
    writer.writerows(EXAMPLE_ROWS)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


__all__ = ["ClientImportExampleView", "ClientImportView", "ImportFileError", "example_csv"]
