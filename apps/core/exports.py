"""django-import-export pieces for CSV that opens right in Russian Excel, shared by the admins.

`ExcelCsv` is the export format (UTF-8 with BOM, `;`, DD.MM.YYYY, decimal comma); `ExcelResource`
formats every cell with apps.core.csv_export.format_cell. Each app keeps its own resources next to
its admin (apps/clients/exports.py, apps/orders/exports.py, apps/finance/exports.py):

    class OrderAdmin(ExcelExportAdminMixin, ExportActionMixin, admin.ModelAdmin):
        resource_classes = [OrderResource]

`ExcelExportAdminMixin` passes `show_pd` (clients.view_personal_data) to the resource, so users
without that permission (accountants) get masked phones, e-mails and birth dates.
"""

import csv
import io

from import_export import resources
from import_export.formats import base_formats
from import_export.forms import SelectableFieldsExportForm

from apps.core.csv_export import BOM, format_cell


class ExcelCsv(base_formats.CSV):
    """CSV for Russian Excel. Cells arrive already formatted by the resources."""

    def get_title(self) -> str:
        return "csv"

    def export_data(self, dataset, **kwargs) -> str:
        buffer = io.StringIO()
        buffer.write(BOM)
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerow(dataset.headers or [])
        for row in dataset:
            writer.writerow(row)
        return buffer.getvalue()


class ExcelResource(resources.ModelResource):
    """Formats every exported cell for Russian Excel; `show_pd` decides masking of personal data."""

    def __init__(self, show_pd: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.show_pd = show_pd

    def export_field(self, field, instance, **kwargs):
        method = getattr(self, field.get_dehydrate_method(self.get_field_name(field)), None)
        value = method(instance) if callable(method) else field.get_value(instance)
        return format_cell(value)


class RussianExportForm(SelectableFieldsExportForm):
    """The export page's column checkboxes named as the file's columns («Дата рождения»), not by the
    resource's English attribute names («Birth Date (Дата рождения)»)."""

    def _get_field_label(self, resource, field_name: str) -> str:
        field = resource.fields.get(field_name)
        return str(field.column_name) if field is not None and field.column_name else field_name


class ExcelExportAdminMixin:
    """Use with import_export's ExportActionMixin / ExportMixin: Excel CSV only, masking by permission."""

    export_formats = [ExcelCsv]
    export_form_class = RussianExportForm
    to_encoding = "utf-8"

    def get_export_resource_kwargs(self, request, **kwargs):
        return {"show_pd": request.user.has_perm("clients.view_personal_data")}
