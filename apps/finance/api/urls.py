from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.finance.api.views import (
    AgencyRequisitesView,
    AgentReportView,
    CurrencyRateViewSet,
    OneCPaymentsExportView,
    OtherPaymentsExportView,
    PaymentViewSet,
    SupplierPaymentViewSet,
    SupplierStatementView,
    report_view,
)

router = SimpleRouter(trailing_slash=True)
router.register("payments", PaymentViewSet, basename="payment")
router.register("supplier-payments", SupplierPaymentViewSet, basename="supplier-payment")
router.register("finance/rates", CurrencyRateViewSet, basename="currency-rate")

REPORT_SUMMARIES = {
    "clients": "Отчёт по клиентам: заказы, оборот, оплачено, долг",
    "orders": "Отчёт по заказам: сумма, оплачено, комиссия, долг",
    "debts": "Долги: кто сколько должен и на сколько дней просрочил (старые первыми)",
    "commissions": "Комиссии по месяцам, поставщикам и менеджерам",
    "fx": "Курсовые разницы: платежи по курсу платежа против курса другой даты",
    "supplier-debts": "Долги поставщикам по заказам: начислено, оплачено, долг, срок (старые первыми)",
    "sales": "Продажи, себестоимость и маржа по месяцам",
    "funnel": "Воронка: заявки → заказы → оплаты по каналам или менеджерам",
}

report_urls = []
for name, summary in REPORT_SUMMARIES.items():
    report_urls += [
        path(f"reports/{name}/", report_view(name, summary).as_view(), name=f"report-{name}"),
        path(f"reports/{name}/csv/", report_view(name, summary, "csv").as_view(), {"format": "csv"},
             name=f"report-{name}-csv"),
        path(f"reports/{name}/xlsx/", report_view(name, summary, "xlsx").as_view(), {"format": "xlsx"},
             name=f"report-{name}-xlsx"),
    ]

order_payments = PaymentViewSet.as_view({"get": "list", "post": "create"})
order_supplier_payments = SupplierPaymentViewSet.as_view({"get": "list", "post": "create"})

urlpatterns = [
    path("finance/requisites/", AgencyRequisitesView.as_view(), name="agency-requisites"),
    path("orders/<int:order_id>/payments/", order_payments, name="order-payments"),
    path("orders/<int:order_id>/supplier-payments/", order_supplier_payments, name="order-supplier-payments"),
    path("finance/supplier-statements/<int:supplier_id>/", SupplierStatementView.as_view(),
         name="supplier-statement"),
    path("finance/agent-reports/<int:supplier_id>/", AgentReportView.as_view(), name="agent-report"),
    path("exports/1c/payments/", OneCPaymentsExportView.as_view(), name="export-1c-payments"),
    path("exports/payments/other/", OtherPaymentsExportView.as_view(), name="export-other-payments"),
    *report_urls,
    *router.urls,
]
