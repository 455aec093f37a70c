"""The CSV import on the client list in the admin: upload → dry-run preview → confirm.

The uploaded file waits in object storage (random key) between the preview and the confirmation;
the confirmation carries a signed token naming it, so a user can only confirm their own preview.
The same service as the API does the work (apps.clients.imports.service.import_clients).
"""

from functools import cache
from pathlib import Path

from django import forms
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpResponseRedirect
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.clients.imports.api import example_csv
from apps.clients.imports.background import goes_to_background, import_clients_start
from apps.clients.imports.reader import ImportFileError, read_upload
from apps.clients.imports.service import import_clients
from apps.core.files import content_disposition
from apps.core.heavy import ServerBusy, acquire_slot, heavy_slot, mark_busy, release_slot
from apps.core.storage import random_key

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TOKEN_SALT = "clients.csv-import"  # noqa: S105 - a signing namespace, not a secret
TOKEN_MAX_AGE = 60 * 60
PREVIEW_ROWS = 500
STATUS_LABELS = {"created": "создан", "updated": "дополнен", "duplicate": "дубликат", "rejected": "отклонён"}
PREVIEW_LABELS = {
    "created": "будет создан", "updated": "будет дополнен", "duplicate": "дубликат", "rejected": "отклонён",
}
STALE_PREVIEW = "Предпросмотр устарел, загрузите файл заново."
NO_UPDATE_RIGHT = "Дополнять существующих клиентов может только тот, кому разрешено их изменять."


@cache
def _template(name: str):
    """Templates live next to this module (the package owns them), compiled by the project's engine."""
    return engines["django"].from_string((TEMPLATES_DIR / name).read_text(encoding="utf-8"))


class ImportForm(forms.Form):
    file = forms.FileField(label="CSV-файл", help_text="UTF-8 или Windows-1251, разделитель «;» или «,».")
    on_duplicate = forms.ChoiceField(
        label="Если клиент уже есть",
        choices=[("skip", "пропустить"), ("update", "дополнить недостающими данными")],
        initial="skip",
    )


class ClientImportAdminMixin:
    """Adds "Импорт из CSV" to the client changelist (ClientAdmin inherits it)."""

    @property
    def change_list_template(self):
        return self.__dict__.get("_change_list_template") or _template("change_list.html")

    @change_list_template.setter
    def change_list_template(self, value):
        # django-import-export's mixins assign their own template here (None when they add none).
        self.__dict__["_change_list_template"] = value

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        own = [
            path("import-csv/", self.admin_site.admin_view(self.import_csv_view), name=f"{prefix}_import_csv"),
            path(
                "import-csv/example/", self.admin_site.admin_view(self.import_example_view),
                name=f"{prefix}_import_example",
            ),
        ]
        return own + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_import_csv": self.has_add_permission(request),
            "import_csv_url": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_import_csv"),
        }
        return super().changelist_view(request, extra_context)

    def import_example_view(self, request):
        from django.http import HttpResponse

        if not self.has_view_permission(request):
            raise PermissionDenied
        return HttpResponse(
            example_csv(), content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": content_disposition("clients_import_example.csv"),
                     "X-Content-Type-Options": "nosniff"},
        )

    def import_csv_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        context = {"form": ImportForm()}
        if request.method == "POST" and request.POST.get("confirm_token"):
            return self._confirm(request)
        if request.method == "POST":
            try:
                context.update(self._preview(request))
            except ServerBusy as error:  # every heavy slot is taken: 503, the manager tries again
                return mark_busy(self._render(request, {**context, "error": str(error.detail)}))
        return self._render(request, context)

    # --- steps ------------------------------------------------------------------------------------

    def _preview(self, request) -> dict:
        form = ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return {"form": form}
        on_duplicate = form.cleaned_data["on_duplicate"]
        if on_duplicate == "update" and not self.has_change_permission(request):
            return {"form": form, "error": NO_UPDATE_RIGHT}
        uploaded = form.cleaned_data["file"]
        try:
            data = read_upload(uploaded)
            with heavy_slot():  # the dry run reads and checks every row: heavy work, like the import itself
                report = import_clients(data=data, file_name=uploaded.name, dry_run=True, on_duplicate=on_duplicate,
                                        actor=request.user)
        except ImportFileError as error:
            return {"form": form, "error": error.detail}
        context = {"form": form, "file_name": uploaded.name, **self._report_context(report, preview=True)}
        if report.totals["created"] or report.totals["updated"]:
            key = default_storage.save(random_key("imports/pending", ".csv"), ContentFile(data))
            context["confirm_token"] = signing.dumps(
                {"key": key, "name": uploaded.name, "on_duplicate": on_duplicate, "user": request.user.pk},
                salt=TOKEN_SALT,
            )
        return context

    def _confirm(self, request):
        try:
            token = signing.loads(request.POST["confirm_token"], salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
        except signing.BadSignature:
            return self._render(request, {"form": ImportForm(), "error": STALE_PREVIEW})
        if token.get("user") != request.user.pk or not default_storage.exists(token["key"]):
            return self._render(request, {"form": ImportForm(), "error": STALE_PREVIEW})
        with default_storage.open(token["key"]) as handle:
            data = handle.read()
        if goes_to_background(data):  # a large file: a job with a progress bar, not this request
            progress = import_clients_start(data=data, file_name=token["name"], on_duplicate=token["on_duplicate"],
                                            actor=request.user)
            default_storage.delete(token["key"])
            self.message_user(request, "Импорт идёт в фоне: ход и итог — на этой странице.", messages.INFO)
            return HttpResponseRedirect(reverse("admin:jobs_jobprogress_change", args=[progress.pk]))
        slot = acquire_slot()
        if slot is None:  # every heavy slot is taken: 503; the file stays, the same confirmation can be sent again
            return mark_busy(self._render(request, {"form": ImportForm(), "error": ServerBusy.default_detail,
                                                    "confirm_token": request.POST["confirm_token"],
                                                    "file_name": token["name"]}))
        try:
            report = import_clients(data=data, file_name=token["name"], dry_run=False,
                                    on_duplicate=token["on_duplicate"], actor=request.user)
        except ImportFileError as error:
            return self._render(request, {"form": ImportForm(), "error": error.detail})
        finally:
            release_slot(slot)
            default_storage.delete(token["key"])
        totals = report.totals
        self.message_user(
            request,
            f"Импорт завершён: создано {totals['created']}, дополнено {totals['updated']}, "
            f"дубликатов {totals['duplicate']}, отклонено {totals['rejected']}.",
            messages.SUCCESS if not totals["rejected"] else messages.WARNING,
        )
        if totals["rejected"]:
            return self._render(request, {"form": ImportForm(), "file_name": token["name"],
                                          **self._report_context(report, preview=False)})
        return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"))

    # --- rendering --------------------------------------------------------------------------------

    def _report_context(self, report, *, preview: bool) -> dict:
        labels = PREVIEW_LABELS if preview else STATUS_LABELS
        change_url = f"admin:{self.opts.app_label}_{self.opts.model_name}_change"
        interesting = [o for o in report.outcomes if o.status != "created"] or report.outcomes
        shown = []
        for outcome in interesting[:PREVIEW_ROWS]:
            row = outcome.as_dict()
            row["status_label"] = labels[row["status"]]
            if row.get("client_id"):
                row["client_url"] = reverse(change_url, args=[row["client_id"]])
            shown.append(row)
        return {"report": report.as_dict(rows=False), "shown_rows": shown,
                "rows_truncated": len(interesting) > PREVIEW_ROWS}

    def _render(self, request, context: dict):
        prefix = f"admin:{self.opts.app_label}_{self.opts.model_name}"
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Импорт клиентов из CSV",
            "changelist_url": reverse(f"{prefix}_changelist"),
            "example_url": reverse(f"{prefix}_import_example"),
            **context,
        }
        return TemplateResponse(request, _template("import.html"), context)
