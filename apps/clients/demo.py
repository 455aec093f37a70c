"""Demo clients (fictitious people): Cyrillic and Latin names, contacts, passports, one merged pair."""

from apps.accounts.models import User
from apps.clients.selectors import clients_by_contacts
from apps.clients.services import client_create

DEMO_CLIENTS = [
    {
        "last_name": "Смирнова", "first_name": "Екатерина", "middle_name": "Андреевна",
        "last_name_latin": "SMIRNOVA", "first_name_latin": "EKATERINA", "birth_date": "1988-07-14",
        "phones": ["+7 916 100-20-30"], "emails": ["e.smirnova@example.ru"], "telegram": ["katya_travels"],
        "passports": [
            {"kind": "internal", "series": "4512", "number": "100200", "issue_date": "2012-08-01",
             "issued_by": "ОУФМС России по г. Москве"},
            {"kind": "foreign", "series": "75", "number": "1002003", "issue_date": "2021-03-10",
             "expiry_date": "2031-03-10", "issued_by": "МВД 77810"},
        ],
        "notes": "Предпочитает отели 4–5*, Турция и ОАЭ.",
    },
    {
        "last_name": "Кузнецов", "first_name": "Дмитрий", "middle_name": "Сергеевич",
        "last_name_latin": "KUZNETSOV", "first_name_latin": "DMITRII", "birth_date": "1979-11-02",
        "phones": ["8 (926) 200-30-40"], "emails": ["d.kuznetsov@example.ru"], "whatsapp": ["79262003040"],
        "passports": [{"kind": "internal", "series": "4605", "number": "200300", "issue_date": "2005-12-20"}],
        "notes": "Корпоративный клиент, командировки.",
    },
    {
        "last_name": "Кузнецова", "first_name": "Алиса", "middle_name": "Дмитриевна",
        "last_name_latin": "KUZNETSOVA", "first_name_latin": "ALISA", "birth_date": "2015-04-25",
        "passports": [{"kind": "birth_certificate", "series": "IV-МЮ", "number": "300400",
                       "issue_date": "2015-05-05"}],
        "notes": "Дочь Д. С. Кузнецова.",
    },
    {
        "last_name": "Иванов", "first_name": "Пётр", "last_name_latin": "IVANOV", "first_name_latin": "PETR",
        "phones": ["+7 903 300-40-50"], "emails": ["p.ivanov@example.ru"], "citizenship": "RU",
    },
]


def load_demo(stdout) -> None:
    operator = User.objects.filter(email="operator@demo.travelcrm").first()
    created = 0
    for data in DEMO_CLIENTS:
        payload = {**data, "operator": operator}
        if not (data.get("phones") or data.get("emails")):
            numbers = [p["series"] + p["number"] for p in data.get("passports", [])]
            if clients_by_contacts(passports=numbers):
                continue
        client = client_create(data=payload, on_duplicate="link")
        created += 0 if client.linked else 1
    stdout.write(f"Демо-клиенты: добавлено {created}, всего в списке {len(DEMO_CLIENTS)}")
