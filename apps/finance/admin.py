"""Admin of the finance app: it saves through the services, like the API."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from import_export.admin import ExportActionMixin

from apps.clients.pickers import ClientPickerAdminMixin
from apps.core.errors import BusinessError
from apps.core.exports import ExcelExportAdminMixin
from apps.core.files import attach_download_headers
from apps.core.forms import RuDecimalField
from apps.core.masking import mask_name, mask_requisite
from apps.core.numbers import format_money, format_rate
from apps.core.paging import LargeTableAdminMixin
from apps.finance import services
from apps.finance.exports import PaymentResource
from apps.finance.models import (
    COUNTERPARTY_PERSONAL_FIELDS,
    PAYER_PERSONAL_FIELDS,
    AgencyRequisites,
    CurrencyRate,
    Payment,
    RateSource,
    SupplierPayment,
)
from apps.finance.onec import MissingBankDocuments, build_statement, row_to_document
from apps.finance.selectors import agency_requisites, bank_balance_before, one_c_rows
from apps.finance.tasks import fetch_rates_enqueue

# --- Requisites ------------------------------------------------------------------------------------


@admin.register(AgencyRequisites)
class AgencyRequisitesAdmin(admin.ModelAdmin):
    list_display = ["short_name", "inn", "bank_name", "account", "updated_at"]
    fieldsets = [
        ("Организация", {"fields": ["legal_name", "short_name", "inn", "kpp", "ogrn", "address"]}),
        ("Банк", {"fields": ["bank_name", "bank_city", "bik", "account", "corr_account"]}),
        ("Подписи и налоги", {"fields": ["director_name", "accountant_name", "vat_mode", "vat_rate"]}),
    ]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not AgencyRequisites.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = services.requisites_save(data=form.cleaned_data, actor=request.user)
        obj.pk = saved.pk


# --- Rates -----------------------------------------------------------------------------------------


class CurrencyRateAdminForm(forms.ModelForm):
    """The rate as the Central Bank's table gives it — rubles for `nominal` units — with the rate per
    one unit worked out next to it; a rate more than 10 % away from the bank's (or off by 10×: a nominal
    forgotten) needs a tick to be saved."""

    rate_for_nominal = RuDecimalField(
        label="курс за номинал, ₽", max_digits=20, decimal_places=10, min_value=Decimal("0.0000000001"),
        help_text="Как в таблице ЦБ: рублей за «номинал» единиц (KZT, AMD — за 100, JPY, CNY — за 10 или 1).",
    )
    confirm = forms.BooleanField(label="курс верный, хотя отличается от курса ЦБ больше чем на 10 %", required=False)

    class Meta:
        model = CurrencyRate
        fields = ["date", "currency", "nominal"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["rate_for_nominal"].initial = self.instance.rate * self.instance.nominal
        self.fields["nominal"].help_text = "За сколько единиц валюты указан курс."

    def clean(self):
        cleaned = super().clean()
        rate, nominal, currency, day = (cleaned.get(key) for key in ("rate_for_nominal", "nominal", "currency", "date"))
        if rate and nominal and currency and day:
            per_unit = (rate / nominal).quantize(Decimal("0.0000000001"))
            self.per_unit = per_unit
            warning = services.rate_check_message(currency=currency, on_date=day, per_unit=per_unit)
            if warning and not cleaned.get("confirm"):
                self.add_error("rate_for_nominal", warning)
        return cleaned


@admin.register(CurrencyRate)
class CurrencyRateAdmin(admin.ModelAdmin):
    form = CurrencyRateAdminForm
    list_display = ["date", "currency", "nominal", "rate_for_nominal_display", "rate", "source", "bank_date",
                    "created_by"]
    list_filter = ["source", "currency"]
    date_hierarchy = "date"
    fields = ["date", "currency", ("nominal", "rate_for_nominal"), "per_unit_display", "confirm"]
    readonly_fields = ["per_unit_display", "bank_date", "source", "created_by"]
    change_list_template = "admin/finance/currencyrate/change_list.html"

    def get_urls(self):
        fetch = path("fetch-cbr/", self.admin_site.admin_view(self.fetch_cbr_view), name="finance_currencyrate_fetch")
        return [fetch, *super().get_urls()]

    def fetch_cbr_view(self, request):
        """«Загрузить курсы ЦБ»: a job fetches today's and tomorrow's rates (the page does not wait)."""
        if request.method != "POST" or not self.has_add_permission(request):
            raise PermissionDenied
        if fetch_rates_enqueue():
            self.message_user(request, "Загрузка курсов ЦБ поставлена в очередь: обновите страницу через минуту.")
        else:
            self.message_user(request, "Загрузка курсов ЦБ уже стоит в очереди.", level=messages.WARNING)
        return HttpResponseRedirect(reverse("admin:finance_currencyrate_changelist"))

    @admin.display(description="курс за номинал, ₽")
    def rate_for_nominal_display(self, obj):
        return f"{format_rate(obj.rate * obj.nominal)} за {obj.nominal}"

    @admin.display(description="курс за 1 единицу, ₽")
    def per_unit_display(self, obj):
        return format_rate(obj.rate) if obj and obj.rate else "— считается при сохранении: курс ÷ номинал"

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.source == RateSource.CBR:
            return False  # the bank's rates are corrected by fetching again, not by hand
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            saved = services.rate_set_manual(currency=data["currency"], on_date=data["date"],
                                             rate=data["rate_for_nominal"], nominal=data["nominal"],
                                             actor=request.user, confirmed=True)  # the form checked it
        except BusinessError as error:
            raise ValidationError(error.detail) from error
        obj.pk = saved.pk
        obj.rate = saved.rate


# --- Payments --------------------------------------------------------------------------------------

PAYMENT_FORM_FIELDS = [
    "order", "type", "method", "amount", "currency", "rate", "date", "time", "payer_kind", "payer_client",
    "payer_name", "payer_inn", "payer_kpp", "payer_account", "payer_bank_name", "payer_bik", "payer_corr_account",
    "bank_doc_number", "bank_doc_date", "comment",
]
FIXED_ON_CHANGE = ["order", "type", "currency"]
PERSONAL_DATA_PERMISSION = "clients.view_personal_data"


class _DryRun(Exception):
    pass


class PaymentAdminForm(forms.ModelForm):
    rate = RuDecimalField(
        label="курс к валюте заказа", required=False, max_digits=20, decimal_places=10,
        help_text="Оставьте пустым — возьмётся курс ЦБ на дату платежа. Введённый курс помечается «вручную».",
    )

    class Meta:
        model = Payment
        fields = PAYMENT_FORM_FIELDS

    def service_data(self) -> dict:
        return {key: value for key, value in self.cleaned_data.items() if key not in ("order",)}

    def clean(self):
        """Run the service in a savepoint that is rolled back, so its refusals show on the form."""
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            with transaction.atomic():
                self.run_service(actor=None)
                raise _DryRun
        except _DryRun:
            pass
        except BusinessError as error:
            fields = {key: value for key, value in error.fields.items() if key in self.fields}
            raise ValidationError(fields or error.detail) from error
        return cleaned

    def run_service(self, actor) -> Payment:
        if self.instance.pk:
            return services.payment_update(payment_id=self.instance.pk, data=self.service_data(), actor=actor)
        return services.payment_create(order_id=self.cleaned_data["order"].pk, data=self.service_data(), actor=actor)


class MoneyListMixin:
    """The lists show money as people read it: «1 234,56 ₽» in the payment's currency, the same in the
    order's, and the rate with a decimal comma (sortable by the underlying columns)."""

    @admin.display(description="сумма", ordering="amount")
    def amount_display(self, obj):
        return format_money(obj.amount, obj.currency)

    @admin.display(description="в валюте заказа", ordering="amount_in_order_currency")
    def amount_in_order_currency_display(self, obj):
        return format_money(obj.amount_in_order_currency, obj.order.currency)

    @admin.display(description="курс", ordering="rate")
    def rate_display(self, obj):
        return format_rate(obj.rate)


class MaskedRequisitesAdminMixin:
    """The payer's (supplier's) name, INN and account: encrypted, so not searchable; shown masked and
    read only on an existing payment to staff without clients.view_personal_data."""

    personal_fields: tuple[str, ...] = ()

    def _masked(self, request, obj) -> bool:
        return obj is not None and not request.user.has_perm(PERSONAL_DATA_PERMISSION)

    def get_fields(self, request, obj=None):
        fields = list(self.form_fields)
        if self._masked(request, obj):
            fields = [f"{name}_masked" if name in self.personal_fields else name for name in fields]
        return [*fields, *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        fixed = self.fixed_on_change if obj is not None else []
        masked = [f"{name}_masked" for name in self.personal_fields] if self._masked(request, obj) else []
        return [*fixed, *masked, *self.readonly_fields]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if self._masked(request, obj):
            kwargs["fields"] = [name for name in self.form_fields if name not in self.personal_fields]
        return super().get_form(request, obj, change=change, **kwargs)


def _masked_display(field: str, mask, label: str):
    @admin.display(description=label)
    def display(self, obj):
        return mask(getattr(obj, field))

    return display


@admin.register(Payment)
class PaymentAdmin(ClientPickerAdminMixin, MoneyListMixin, MaskedRequisitesAdminMixin, LargeTableAdminMixin,
                   ExcelExportAdminMixin,
                   ExportActionMixin, admin.ModelAdmin):
    form = PaymentAdminForm
    form_fields = PAYMENT_FORM_FIELDS
    fixed_on_change = FIXED_ON_CHANGE
    personal_fields = PAYER_PERSONAL_FIELDS
    payer_name_masked = _masked_display("payer_name", mask_name, "наименование плательщика")
    payer_inn_masked = _masked_display("payer_inn", mask_requisite, "ИНН плательщика")
    payer_account_masked = _masked_display("payer_account", mask_requisite, "счёт плательщика")
    resource_classes = [PaymentResource]
    list_display = ["id", "date", "type", "method", "amount_display", "rate_display", "rate_is_manual",
                    "amount_in_order_currency_display", "order", "created_by"]
    list_filter = ["type", "method", "currency", "rate_is_manual", "date"]
    list_select_related = ["order", "created_by"]
    # The payer's name and INN are encrypted: payments are found by order number, bank document, comment.
    search_fields = ["order__number", "bank_doc_number", "comment"]
    date_hierarchy = "date"
    autocomplete_fields = ["order"]  # by order number or client name (the orders admin's search)
    raw_id_fields = ["payer_client"]
    readonly_fields = ["rate_is_manual", "amount_in_order_currency", "created_by", "created_at", "updated_at"]
    actions = ["export_1c"]

    def save_model(self, request, obj, form, change):
        saved = form.run_service(actor=request.user)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.payment_delete(payment_id=obj.pk, actor=request.user)

    def delete_queryset(self, request, queryset):
        for payment_id in queryset.values_list("id", flat=True):
            services.payment_delete(payment_id=payment_id, actor=request.user)

    @admin.action(description="Выгрузить в 1С (банковские платежи в рублях)", permissions=["export"])
    def export_1c(self, request, queryset):
        try:
            requisites = agency_requisites()
        except BusinessError as error:
            self.message_user(request, error.detail, level=messages.ERROR)
            return None
        rows = list(one_c_rows(queryset))
        if not rows:
            self.message_user(request, "Среди выбранных нет банковских платежей в рублях.", level=messages.WARNING)
            return None
        missing = MissingBankDocuments()
        documents = [row_to_document(row, requisites, missing) for row in rows]
        try:
            missing.raise_if_any()
        except BusinessError as error:
            self.message_user(request, error.detail, level=messages.ERROR)
            return None
        content = build_statement(requisites=requisites, documents=documents, date_from=rows[0]["date"],
                                  date_to=rows[-1]["date"], created_at=timezone.localtime(),
                                  opening=bank_balance_before(rows[0]["date"]))
        response = HttpResponse(content, content_type="text/plain; charset=windows-1251")
        return attach_download_headers(response, "kl_to_1c.txt")

    def has_export_permission(self, request):
        return request.user.has_perm("finance.export_payments")


# --- Supplier payments -----------------------------------------------------------------------------

SUPPLIER_PAYMENT_FORM_FIELDS = [
    "order", "supplier", "service", "type", "method", "amount", "currency", "rate", "date", "counterparty_name",
    "counterparty_inn", "counterparty_kpp", "counterparty_account", "counterparty_bank_name", "counterparty_bik",
    "counterparty_corr_account", "bank_doc_number", "bank_doc_date", "comment",
]


class SupplierPaymentAdminForm(PaymentAdminForm):
    class Meta:
        model = SupplierPayment
        fields = SUPPLIER_PAYMENT_FORM_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "supplier" in self.fields:
            self.fields["supplier"].required = False
            self.fields["supplier"].help_text = "Пусто — поставщик выбранной услуги."

    def service_data(self) -> dict:
        return {key: value for key, value in self.cleaned_data.items() if key not in ("order",)}

    def run_service(self, actor) -> SupplierPayment:
        data = self.service_data()
        if self.instance.pk:
            for key in ("supplier", "service"):
                data.pop(key, None)
            return services.supplier_payment_update(payment_id=self.instance.pk, data=data, actor=actor)
        return services.supplier_payment_create(order_id=self.cleaned_data["order"].pk, data=data, actor=actor)


@admin.register(SupplierPayment)
class SupplierPaymentAdmin(MoneyListMixin, MaskedRequisitesAdminMixin, LargeTableAdminMixin, admin.ModelAdmin):
    form = SupplierPaymentAdminForm
    form_fields = SUPPLIER_PAYMENT_FORM_FIELDS
    fixed_on_change = ["order", "supplier", "service", "type", "currency"]
    personal_fields = COUNTERPARTY_PERSONAL_FIELDS
    counterparty_name_masked = _masked_display("counterparty_name", mask_name, "наименование поставщика")
    counterparty_inn_masked = _masked_display("counterparty_inn", mask_requisite, "ИНН поставщика")
    counterparty_account_masked = _masked_display("counterparty_account", mask_requisite, "счёт поставщика")
    list_display = ["id", "date", "type", "supplier", "amount_display", "rate_display", "rate_is_manual",
                    "amount_in_order_currency_display", "order", "bank_doc_number", "created_by"]
    list_filter = ["type", "method", "currency", "rate_is_manual", "date"]
    list_select_related = ["order", "supplier", "created_by"]
    search_fields = ["order__number", "supplier__name", "bank_doc_number", "comment"]
    date_hierarchy = "date"
    autocomplete_fields = ["order", "supplier"]
    raw_id_fields = ["service"]
    readonly_fields = ["rate_is_manual", "amount_in_order_currency", "created_by", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        saved = form.run_service(actor=request.user)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.supplier_payment_delete(payment_id=obj.pk, actor=request.user)

    def delete_queryset(self, request, queryset):
        for payment_id in queryset.values_list("id", flat=True):
            services.supplier_payment_delete(payment_id=payment_id, actor=request.user)


from apps.finance import admin_reports  # noqa: E402, F401 — registers «Отчёты»
