"""The finance admin's Excel export of payments (format and masking: apps.core.exports)."""

from import_export import fields

from apps.core.exports import ExcelResource
from apps.core.masking import mask_name, mask_requisite
from apps.finance.models import Payment


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
    payer_inn = fields.Field(column_name="ИНН плательщика", dehydrate_method="dehydrate_payer_inn")
    bank_doc_number = fields.Field(attribute="bank_doc_number", column_name="№ платёжного поручения")
    bank_doc_date = fields.Field(attribute="bank_doc_date", column_name="Дата платёжного поручения")
    comment = fields.Field(attribute="comment", column_name="Комментарий")
    created_by = fields.Field(attribute="created_by__full_name", column_name="Кто внёс")

    class Meta:
        model = Payment
        fields = export_order = ("id", "date", "time", "type", "method", "amount", "currency", "rate", "rate_is_manual",
                        "amount_in_order_currency", "order_currency", "order_number", "payer", "payer_inn",
                        "bank_doc_number", "bank_doc_date", "comment", "created_by")

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("order", "payer_client", "created_by")

    def dehydrate_type(self, payment):
        return payment.get_type_display()

    def dehydrate_method(self, payment):
        return payment.get_method_display()

    def dehydrate_payer(self, payment):
        # The payer's name, INN: personal data, masked without clients.view_personal_data (show_pd).
        if payment.payer_name:
            return payment.payer_name if self.show_pd else mask_name(payment.payer_name)
        name = payment.payer_client.full_name if payment.payer_client_id else ""
        return name if self.show_pd else mask_name(name)

    def dehydrate_payer_inn(self, payment):
        return payment.payer_inn if self.show_pd else mask_requisite(payment.payer_inn)
