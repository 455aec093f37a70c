from django.apps import AppConfig


class WorkplaceConfig(AppConfig):
    """The manager's workplace in the admin: «Сегодня», reminders, the search box, the client's history.

    It sits on top of the domain apps (it reads leads, orders, payments and documents together), like
    integrations and audit.
    """

    name = "apps.workplace"
    label = "workplace"
    verbose_name = "Рабочее место"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from apps.clients.references import register_client_reference
        from apps.leads.pagehooks import register_delivery_statuses, register_lead_page_context
        from apps.workplace import history, replies
        from apps.workplace.admin import lead_page_reply_context
        from apps.workplace.models import Reminder

        register_client_reference("workplace.Reminder", "client")
        register_lead_page_context(lead_page_reply_context)
        register_delivery_statuses(replies.delivery_statuses)
        auditlog.register(Reminder)
        history.register()
