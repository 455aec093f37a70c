"""The documented column set of the clients CSV: canonical names, accepted aliases, the example.

Headers are matched case-insensitively, ignoring spaces, hyphens and "ё"; Russian and English
names are both accepted. Unknown columns are ignored (and reported).
"""

import re

# canonical name -> (accepted headers, description for the README / example)
COLUMNS: dict[str, tuple[tuple[str, ...], str]] = {
    "last_name": (("фамилия", "last_name", "surname"), "Фамилия (обязательно)"),
    "first_name": (("имя", "first_name", "given_name"), "Имя (обязательно)"),
    "middle_name": (("отчество", "middle_name", "patronymic"), "Отчество"),
    "last_name_latin": (
        ("фамилия_лат", "фамилия_латиницей", "last_name_latin"), "Фамилия латиницей, как в загранпаспорте",
    ),
    "first_name_latin": (("имя_лат", "имя_латиницей", "first_name_latin"), "Имя латиницей"),
    "birth_date": (("дата_рождения", "birth_date", "birthday"), "Дата рождения: ДД.ММ.ГГГГ или ГГГГ-ММ-ДД"),
    "citizenship": (("гражданство", "citizenship"), "Гражданство, код страны (RU)"),
    "phone": (("телефон", "телефоны", "phone", "phones"), "Телефон; несколько — через запятую"),
    "email": (("email", "e_mail", "почта", "электронная_почта", "emails"), "E-mail; несколько — через запятую"),
    "telegram": (("telegram", "телеграм"), "Telegram: @имя или числовой id"),
    "passport_series": (("паспорт_серия", "серия_паспорта", "passport_series"), "Серия документа"),
    "passport_number": (("паспорт_номер", "номер_паспорта", "passport_number"), "Номер документа"),
    "passport_kind": (
        ("паспорт_тип", "тип_документа", "passport_kind", "passport_type"),
        "Вид документа: внутренний / заграничный / свидетельство (пусто — по формату номера)",
    ),
    "passport_issue_date": (("паспорт_дата_выдачи", "дата_выдачи", "passport_issue_date"), "Дата выдачи документа"),
    "passport_expiry_date": (
        ("паспорт_действителен_до", "паспорт_срок", "passport_expiry_date"), "Документ действителен до",
    ),
    "passport_issued_by": (("паспорт_кем_выдан", "кем_выдан", "passport_issued_by"), "Кем выдан документ"),
    "notes": (("заметки", "примечание", "notes", "comment"), "Заметки"),
}

REQUIRED = ("last_name", "first_name")
IDENTIFIERS = ("phone", "email", "telegram", "passport_number")

# The header row of the example file (Russian names, as staff write them).
EXAMPLE_HEADER = [aliases[0] for aliases, _description in COLUMNS.values()]
EXAMPLE_ROWS = [
    [
        "Иванов", "Иван", "Иванович", "IVANOV", "IVAN", "15.04.1985", "RU", "+7 916 123-45-67",
        "ivanov@example.com", "@ivanov", "4510", "123456", "внутренний", "20.05.2015", "",
        "ОВД района Хамовники г. Москвы", "Постоянный клиент",
    ],
    [
        "Петрова", "Анна", "Сергеевна", "PETROVA", "ANNA", "1990-02-01", "RU", "8 (903) 765-43-21",
        "anna.petrova@example.com", "", "75", "1234567", "заграничный", "2019-07-10", "2029-07-10",
        "МВД 77001", "",
    ],
]

_ALIASES = {alias: name for name, (aliases, _description) in COLUMNS.items() for alias in aliases}


def header_key(header: str) -> str:
    """"Дата рождения" / "дата-рождения" / " ДАТА_РОЖДЕНИЯ " -> "дата_рождения"."""
    text = (header or "").strip().lstrip("\ufeff").lower().replace("ё", "е")
    return re.sub(r"[\s\-]+", "_", text)


def map_header(headers: list[str]) -> tuple[dict[str, int], list[str], list[str]]:
    """-> ({canonical name: column position}, unknown headers, canonical names given twice)."""
    positions: dict[str, int] = {}
    unknown: list[str] = []
    repeated: list[str] = []
    for position, header in enumerate(headers):
        name = _ALIASES.get(header_key(header))
        if name is None:
            if header.strip():
                unknown.append(header.strip())
            continue
        if name in positions:
            repeated.append(name)
            continue
        positions[name] = position
    return positions, unknown, repeated
