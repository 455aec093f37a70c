from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "apps.orders"
    label = "orders"
    verbose_name = "Заказы"

    def ready(self) -> None:
        self._register_client_references()
        self._register_lead_converter()
        self._register_audit()

    @staticmethod
    def _register_client_references() -> None:
        """Merging two clients moves their orders and trips (the clients app owns the registry)."""
        from apps.clients.references import register_client_m2m, register_client_reference

        register_client_reference("orders.Order", "client")
        register_client_m2m("orders.Order", "travellers")
        register_client_m2m("orders.Service", "travellers")

    @staticmethod
    def _register_lead_converter() -> None:
        """The lead admin's «Преобразовать в заказ» calls order_create_from_lead through leads' registry."""
        from apps.leads.conversion import register_lead_converter
        from apps.orders.services import order_create_from_lead

        register_lead_converter(order_create_from_lead)

    @staticmethod
    def _register_audit() -> None:
        from auditlog.registry import auditlog

        from apps.orders.models import Order, Service, Supplier

        auditlog.register(Supplier)
        # Totals, balance, trip dates and warnings are derived from audited services and payments.
        derived = [
            "total_amount", "commission", "balance_due", "cost_amount", "margin", "supplier_balance_due",
            "trip_start", "trip_end", "warnings", "updated_at",
        ]
        # The travellers (links to clients) are logged by apps.orders.audit, by client id: auditlog's
        # m2m receiver would write the clients' full names and read them once more per change.
        auditlog.register(Order, exclude_fields=derived)
        auditlog.register(Service, exclude_fields=["updated_at"])
