"""Demo data of the channels: bots without tokens, a web-form request, an inbox item to retry."""

import datetime as dt

from django.utils import timezone

from apps.integrations.inbox import inbox_process, inbox_store
from apps.integrations.models import Channel, InboxItem, InboxStatus, IntegrationSettings
from apps.integrations.webform.forms import consent_evidence

DEMO_BOTS = [
    ("telegram", "demo_agency_sales_bot", "sales"),
    ("telegram", "demo_agency_suppliers_bot", "suppliers"),
]


def _web_payload(name: str, phone: str, email: str, wishes: str) -> dict:
    start = timezone.localdate() + dt.timedelta(days=40)
    return {
        "form": {
            "name": name,
            "phone": phone,
            "email": email,
            "wishes": wishes,
            "date_from": start.isoformat(),
            "date_to": (start + dt.timedelta(days=7)).isoformat(),
        },
        "consent": consent_evidence(ip="192.0.2.10", user_agent="Mozilla/5.0 (демо)"),
    }


def load_demo(stdout) -> None:
    for kind, name, purpose in DEMO_BOTS:
        # No token: a supervisor enters it (with ADMIN_PASSWORD) and activates the bot.
        IntegrationSettings.objects.get_or_create(type=kind, bot_name=name, defaults={"purpose": purpose})
    item, created = inbox_store(
        channel=Channel.WEB,
        external_id="web:demo-1",
        payload=_web_payload("Анна Демонстрационная", "+79000000101", "anna.demo@example.com", "Турция, всё включено"),
    )
    if created:
        inbox_process(item)
    failed, created = inbox_store(
        channel=Channel.WEB,
        external_id="web:demo-2",
        payload=_web_payload("Борис Демонстрационный", "+79000000102", "", "Экскурсии в Петербурге на выходные"),
    )
    if created:
        # Shows how a failed item looks; «Повторить обработку» in the admin turns it into a lead.
        InboxItem.objects.filter(pk=failed.pk).update(
            status=InboxStatus.FAILED, attempts=1, error="Демо: хранилище файлов было недоступно при получении."
        )
    stdout.write("integrations: demo bots (без токенов), заявка с веб-формы, входящее сообщение с ошибкой")
