"""Russian word forms of the models' names, for admin titles and counts in the right case.

Django builds «Добавить %s» and «38 %s» from a model's verbose_name (nominative), which gives
«Добавить клиент» and «38 клиенты». Keyed by verbose_name (lower case), each entry gives
(accusative singular, genitive singular, genitive plural): «Добавить клиента», «2 клиента»,
«38 клиентов». A name missing here falls back to Django's forms (and is easy to add).
"""

from django.utils.text import capfirst

FORMS: dict[str, tuple[str, str, str]] = {
    "клиент": ("клиента", "клиента", "клиентов"),
    "заявка": ("заявку", "заявки", "заявок"),
    "заказ": ("заказ", "заказа", "заказов"),
    "услуга": ("услугу", "услуги", "услуг"),
    "поставщик": ("поставщика", "поставщика", "поставщиков"),
    "документ": ("документ", "документа", "документов"),
    "шаблон документа": ("шаблон документа", "шаблона документа", "шаблонов документов"),
    "версия шаблона": ("версию шаблона", "версии шаблона", "версий шаблонов"),
    "платёж": ("платёж", "платежа", "платежей"),
    "курс валюты": ("курс валюты", "курса валюты", "курсов валют"),
    "реквизиты агентства": ("реквизиты агентства", "реквизитов агентства", "реквизитов агентства"),
    "интеграция": ("интеграцию", "интеграции", "интеграций"),
    "входящее сообщение": ("входящее сообщение", "входящих сообщения", "входящих сообщений"),
    "согласие на обработку пдн": ("согласие на обработку ПДн", "согласия на обработку ПДн",
                                  "согласий на обработку ПДн"),
    "пользователь": ("пользователя", "пользователя", "пользователей"),
    "группа": ("группу", "группы", "групп"),
    "запись в журнале": ("запись в журнале", "записи в журнале", "записей в журнале"),
    "напоминание": ("напоминание", "напоминания", "напоминаний"),
    "исходящее сообщение": ("исходящее сообщение", "исходящих сообщения", "исходящих сообщений"),
    "контакт": ("контакт", "контакта", "контактов"),
    "паспорт": ("паспорт", "паспорта", "паспортов"),
    "файл клиента": ("файл клиента", "файла клиента", "файлов клиента"),
    "событие заказа": ("событие заказа", "события заказа", "событий заказа"),
    "сообщение заявки": ("сообщение заявки", "сообщения заявки", "сообщений заявки"),
    "вложение": ("вложение", "вложения", "вложений"),
}


def _forms(verbose_name) -> tuple[str, str, str] | None:
    return FORMS.get(str(verbose_name).lower())


def accusative(verbose_name) -> str:
    found = _forms(verbose_name)
    return found[0] if found else str(verbose_name)


def plural_index(count: int) -> int:
    """0: 1, 21, 101 …; 1: 2–4, 22–24 …; 2: 0, 5–20, 25 … (the Russian rule)."""
    count = abs(int(count))
    if count % 10 == 1 and count % 100 != 11:
        return 0
    if 2 <= count % 10 <= 4 and not 12 <= count % 100 <= 14:
        return 1
    return 2


def count_phrase(count: int, verbose_name, verbose_name_plural) -> str:
    """38, «клиент» → «38 клиентов»."""
    found = _forms(verbose_name)
    if found is None:
        word = verbose_name if count == 1 else verbose_name_plural
    else:
        word = (str(verbose_name), found[1], found[2])[plural_index(count)]
    return f"{count} {word}"


def add_title(verbose_name) -> str:
    return f"Добавить {accusative(verbose_name)}"


def change_title(verbose_name) -> str:
    return f"Изменить {accusative(verbose_name)}"


def view_title(verbose_name) -> str:
    return f"Просмотр: {verbose_name}"


def list_title(verbose_name_plural) -> str:
    return str(capfirst(verbose_name_plural))
