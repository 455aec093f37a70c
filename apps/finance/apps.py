from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "apps.finance"
    label = "finance"
    verbose_name = "Финансы"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from apps.clients.references import register_client_reference
        from apps.finance.models import AgencyRequisites, CurrencyRate, Payment
        from apps.finance.selectors import rate_for
        from apps.finance.services import overpaid_warnings
        from apps.orders.checks import register_warning_provider
        from apps.orders.rates import register_rate_provider

        auditlog.register(Payment)
        auditlog.register(CurrencyRate)
        auditlog.register(AgencyRequisites)
        register_warning_provider(overpaid_warnings)  # "overpaid" on the order
        register_rate_provider(rate_for)  # orders convert services in a foreign currency with stored rates
        register_client_reference("finance.Payment", "payer_client")  # a client merge moves payments too
