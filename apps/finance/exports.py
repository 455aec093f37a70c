"""django-import-export Resources whose CSV opens right in Russian Excel.

`ExcelCsv` is the export format (UTF-8 with BOM, `;`, DD.MM.YYYY, decimal comma); every resource
below formats its cells with apps.finance.csv_export.format_cell and has Russian headers.

Resources for other apps' admins (the lead wires them in):

    from import_export.admin import ExportActionMixin
    from apps.finance.exports import ExcelExportAdminMixin, OrderResource, ClientResource

    class OrderAdmin(ExcelExportAdminMixin, ExportActionMixin, admin.ModelAdmin):
        resource_classes = [OrderResource]

`ExcelExportAdminMixin` passes `show_pd` (clients.view_personal_data) to the resource, so users
without that permission (accountants) get masked phones, e-mails and birth dates.
"""

import csv
import io

from import_export import fields, resources
from import_export.formats import base_formats

from apps.core.masking import mask_date
from apps.finance.csv_export import BOM, format_cell
from apps.finance.models import Payment


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


class PaymentResource(ExcelResource):
    id = fields.Field(attribute="id", column_name="Номер")
    date = fields.Field(attribute="date", column_name="Дата")
    time = fields.Field(attribute="time", column_name="Время")
    type = fields.Field(column_name="Вид", dehydrate_method="dehydrate_type")
    method = fields.Field(column_name="Способ", dehydrate_method="dehydrate_method")
    amount = fields.Field(attribute="amount", column_name="Сумма")
    currency = fields.Field(attribute="currency", column_name="Валюта")
    rate = fields.Field(attribute="rate", column_name="Курс к валюте заказа")
    rate_is_manual = fields.Field(attribute="rate_is_manual", column_name="Курс вручную")
    amount_in_order_currency = fields.Field(attribute="amount_in_order_currency", column_name="Сумма в валюте заказа")
    order_currency = fields.Field(attribute="order__currency", column_name="Валюта заказа")
    order_number = fields.Field(attribute="order__number", column_name="Заказ")
    payer = fields.Field(column_name="Плательщик", dehydrate_method="dehydrate_payer")
    payer_inn = fields.Field(attribute="payer_inn", column_name="ИНН плательщика")
    comment = fields.Field(attribute="comment", column_name="Комментарий")
    created_by = fields.Field(attribute="created_by__full_name", column_name="Кто внёс")

    class Meta:
        model = Payment
        fields = export_order = ("id", "date", "time", "type", "method", "amount", "currency", "rate", "rate_is_manual",
                        "amount_in_order_currency", "order_currency", "order_number", "payer", "payer_inn",
                        "comment", "created_by")

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("order", "payer_client", "created_by")

    def dehydrate_type(self, payment):
        return payment.get_type_display()

    def dehydrate_method(self, payment):
        return payment.get_method_display()

    def dehydrate_payer(self, payment):
        if payment.payer_name:
            return payment.payer_name
        return payment.payer_client.full_name if payment.payer_client_id else ""


class OrderResource(ExcelResource):
    """Orders for the orders admin (no personal data beyond the client's name)."""

    number = fields.Field(attribute="number", column_name="Номер")
    created_at = fields.Field(attribute="created_at", column_name="Создан")
    status = fields.Field(column_name="Статус", dehydrate_method="dehydrate_status")
    client = fields.Field(column_name="Клиент", dehydrate_method="dehydrate_client")
    operator = fields.Field(attribute="operator__full_name", column_name="Менеджер")
    currency = fields.Field(attribute="currency", column_name="Валюта")
    total_amount = fields.Field(attribute="total_amount", column_name="Сумма")
    commission = fields.Field(attribute="commission", column_name="Комиссия")
    paid_amount = fields.Field(attribute="paid_amount", column_name="Оплачено")
    refunded_amount = fields.Field(attribute="refunded_amount", column_name="Возвращено")
    balance_due = fields.Field(attribute="balance_due", column_name="Долг")
    deadline = fields.Field(attribute="deadline", column_name="Срок оплаты")

    class Meta:
        from apps.orders.models import Order

        model = Order
        fields = export_order = ("number", "created_at", "status", "client", "operator", "currency", "total_amount",
                        "commission", "paid_amount", "refunded_amount", "balance_due", "deadline")

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("client", "operator")

    def dehydrate_status(self, order):
        return order.get_status_display()

    def dehydrate_client(self, order):
        return order.client.full_name if order.client_id else ""


class ClientResource(ExcelResource):
    """Clients for the clients admin: phones, e-mails and birth dates masked unless show_pd."""

    id = fields.Field(attribute="id", column_name="ID")
    last_name = fields.Field(attribute="last_name", column_name="Фамилия")
    first_name = fields.Field(attribute="first_name", column_name="Имя")
    middle_name = fields.Field(attribute="middle_name", column_name="Отчество")
    birth_date = fields.Field(column_name="Дата рождения", dehydrate_method="dehydrate_birth_date")
    phones = fields.Field(column_name="Телефоны", dehydrate_method="dehydrate_phones")
    emails = fields.Field(column_name="E-mail", dehydrate_method="dehydrate_emails")
    created_at = fields.Field(attribute="created_at", column_name="Создан")

    class Meta:
        from apps.clients.models import Client

        model = Client
        fields = export_order = ("id", "last_name", "first_name", "middle_name", "birth_date", "phones", "emails",
                        "created_at")

    def filter_export(self, queryset, **kwargs):
        return queryset.prefetch_related("contacts")

    def _contacts(self, client, kinds: tuple[str, ...]) -> str:
        values = [
            (contact.value if self.show_pd else contact.masked_value)
            for contact in client.contacts.all()
            if contact.kind in kinds and not contact.is_archived
        ]
        return ", ".join(values)

    def dehydrate_birth_date(self, client):
        if self.show_pd:
            return client.birth_date
        return mask_date(client.birth_date)

    def dehydrate_phones(self, client):
        return self._contacts(client, ("phone", "whatsapp"))

    def dehydrate_emails(self, client):
        return self._contacts(client, ("email",))


class ExcelExportAdminMixin:
    """Use with import_export's ExportActionMixin / ExportMixin: Excel CSV only, masking by permission."""

    export_formats = [ExcelCsv]
    to_encoding = "utf-8"

    def get_export_resource_kwargs(self, request, **kwargs):
        return {"show_pd": request.user.has_perm("clients.view_personal_data")}
