"""Demo leads: one per channel, a conversation, a taken and a rejected lead. Idempotent: every
message has a fixed external id, and lead_ingest takes a message only once."""

import datetime as dt

from django.utils import timezone

from apps.leads.models import LeadStatus
from apps.leads.services import lead_ingest, lead_reject, lead_take

DEMO_MESSAGES = [
    # (channel, external id, sender, text, minutes ago)
    ("telegram", "demo-tg-1", {"name": "Екатерина", "telegram_id": "700100", "telegram_username": "katya_travels"},
     "Здравствуйте! Хотим в Стамбул на майские, двое взрослых.", 300),
    ("telegram", "demo-tg-2", {"name": "Екатерина", "telegram_id": "700100"},
     "Отель 4–5*, недалеко от Султанахмета. Бюджет до 150 000 ₽.", 290),
    ("whatsapp", "demo-wa-1", {"name": "Дмитрий", "whatsapp_id": "79262003040"},
     "Нужны билеты Москва — Сочи на 12 июня, 3 человека.", 200),
    ("email", "demo-mail-1", {"name": "Ольга Новикова", "email": "o.novikova@example.ru"},
     "Тема: Экскурсии в Казани\n\nПодскажите программу на два дня для семьи с ребёнком.", 120),
    ("web", "demo-web-1", {"name": "Анна", "phone": "+7 999 555-12-34"},
     "Перезвоните, пожалуйста, по поводу визы в Китай.", 60),
    ("web", "demo-web-2", {"name": "Реклама", "email": "promo@spam.example"},
     "Продвижение сайтов недорого!!!", 30),
]


def load_demo(stdout) -> None:
    now = timezone.now()
    leads = {}
    for channel, external_id, sender, text, minutes in DEMO_MESSAGES:
        result = lead_ingest(
            channel=channel, external_id=external_id, sender=sender, text=text,
            payload={"demo": True, "text": text}, received_at=now - dt.timedelta(minutes=minutes),
        )
        leads[external_id] = result.lead
    taken = leads["demo-wa-1"]
    if taken.status == LeadStatus.NEW:
        lead_take(lead=taken)
    spam = leads["demo-web-2"]
    if spam.status == LeadStatus.NEW:
        lead_reject(lead=spam, reason="Спам")
    stdout.write(f"Заявки: {len(set(lead.pk for lead in leads.values()))} (демо)")
