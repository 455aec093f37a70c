"""The orders admin's Excel export."""

from import_export import fields

from apps.core.exports import ExcelResource
from apps.orders.models import Order


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
        model = Order
        fields = export_order = ("number", "created_at", "status", "client", "operator", "currency", "total_amount",
                        "commission", "paid_amount", "refunded_amount", "balance_due", "deadline")

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("client", "operator")

    def dehydrate_status(self, order):
        return order.get_status_display()

    def dehydrate_client(self, order):
        return order.client.full_name if order.client_id else ""
