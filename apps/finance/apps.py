from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "apps.finance"
    label = "finance"
    verbose_name = "Финансы"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from apps.finance.models import AgencyRequisites, CurrencyRate, Payment
        from apps.finance.services import overpaid_warnings

        auditlog.register(Payment)
        auditlog.register(CurrencyRate)
        auditlog.register(AgencyRequisites)
        from apps.orders.checks import register_warning_provider

        register_warning_provider(overpaid_warnings)
