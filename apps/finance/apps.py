from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "apps.finance"
    label = "finance"
    verbose_name = "Финансы"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from apps.clients.references import register_client_reference
        from apps.finance.models import (
            COUNTERPARTY_PERSONAL_FIELDS,
            PAYER_PERSONAL_FIELDS,
            AgencyRequisites,
            CurrencyRate,
            Payment,
            SupplierPayment,
        )
        from apps.finance.selectors import rate_for
        from apps.finance.services import overpaid_warnings
        from apps.orders.checks import register_warning_provider
        from apps.orders.rates import register_rate_provider

        # The payer's (supplier's) name, INN and account are recorded masked: the diff says they changed.
        mask = "apps.clients.audit.mask_personal_data"
        auditlog.register(Payment, mask_fields=list(PAYER_PERSONAL_FIELDS), mask_callable=mask)
        auditlog.register(SupplierPayment, mask_fields=list(COUNTERPARTY_PERSONAL_FIELDS), mask_callable=mask)
        auditlog.register(CurrencyRate)
        auditlog.register(AgencyRequisites)
        register_warning_provider(overpaid_warnings)  # "overpaid" on the order
        register_rate_provider(rate_for)  # orders convert services in a foreign currency with stored rates
        register_client_reference("finance.Payment", "payer_client")  # a client merge moves payments too
