"""Admin of the finance app: it saves through the services, like the API."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from import_export.admin import ExportActionMixin

from apps.core.errors import BusinessError
from apps.core.exports import ExcelExportAdminMixin
from apps.core.paging import LargeTableAdminMixin
from apps.finance import services
from apps.finance.exports import PaymentResource
from apps.finance.models import AgencyRequisites, CurrencyRate, Payment, RateSource
from apps.finance.onec import build_statement, row_to_document
from apps.finance.selectors import agency_requisites, one_c_rows
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


@admin.register(CurrencyRate)
class CurrencyRateAdmin(admin.ModelAdmin):
    list_display = ["date", "currency", "nominal", "rate", "source", "bank_date", "created_by"]
    list_filter = ["source", "currency"]
    date_hierarchy = "date"
    fields = ["date", "currency", "nominal", "rate"]
    readonly_fields = ["bank_date", "source", "created_by"]
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

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.source == RateSource.CBR:
            return False  # the bank's rates are corrected by fetching again, not by hand
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        try:
            saved = services.rate_set_manual(currency=obj.currency, on_date=obj.date, rate=obj.rate * obj.nominal,
                                             nominal=obj.nominal, actor=request.user)
        except BusinessError as error:
            raise ValidationError(error.detail) from error
        obj.pk = saved.pk


# --- Payments --------------------------------------------------------------------------------------

PAYMENT_FORM_FIELDS = [
    "order", "type", "method", "amount", "currency", "rate", "date", "time", "payer_kind", "payer_client",
    "payer_name", "payer_inn", "payer_account", "payer_bank_name", "payer_bik", "payer_corr_account", "comment",
]
FIXED_ON_CHANGE = ["order", "type", "currency"]


class _DryRun(Exception):
    pass


class PaymentAdminForm(forms.ModelForm):
    rate = forms.DecimalField(
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


@admin.register(Payment)
class PaymentAdmin(LargeTableAdminMixin, ExcelExportAdminMixin, ExportActionMixin, admin.ModelAdmin):
    form = PaymentAdminForm
    resource_classes = [PaymentResource]
    list_display = ["id", "date", "type", "method", "amount", "currency", "rate", "rate_is_manual",
                    "amount_in_order_currency", "order", "created_by"]
    list_filter = ["type", "method", "currency", "rate_is_manual", "date"]
    list_select_related = ["order", "created_by"]
    search_fields = ["order__number", "payer_name", "payer_inn", "comment"]
    date_hierarchy = "date"
    raw_id_fields = ["order", "payer_client"]
    readonly_fields = ["rate_is_manual", "amount_in_order_currency", "created_by", "created_at", "updated_at"]
    actions = ["export_1c"]

    def get_readonly_fields(self, request, obj=None):
        fixed = FIXED_ON_CHANGE if obj is not None else []
        return [*fixed, *self.readonly_fields]

    def get_fields(self, request, obj=None):
        return [*PAYMENT_FORM_FIELDS, *self.readonly_fields]

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
        documents = [row_to_document(row, requisites) for row in rows]
        content = build_statement(requisites=requisites, documents=documents, date_from=rows[0]["date"],
                                  date_to=rows[-1]["date"], created_at=timezone.localtime())
        response = HttpResponse(content, content_type="text/plain; charset=windows-1251")
        response["Content-Disposition"] = 'attachment; filename="kl_to_1c.txt"'
        return response

    def has_export_permission(self, request):
        return request.user.has_perm("finance.export_payments")
