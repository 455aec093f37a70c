"""One CSV row -> a prepared client (normalised values, blind indexes) or the reasons it is refused.

Normalisation and blind indexes come from the clients app (apps.clients.normalization and
prepare_passport), so an imported client is indexed exactly like one created through the API.
"""

import datetime as dt
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.clients.models import Client, PassportKind, build_search_name
from apps.clients.normalization import EMAIL, PHONE, TELEGRAM, contact_index, normalize_contact
from apps.clients.services import PreparedPassport, prepare_passport

NAME_FIELDS = ("last_name", "first_name", "middle_name", "last_name_latin", "first_name_latin")
_MULTI_SPLIT = re.compile(r"[,;]+")
_DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%y")

_PASSPORT_KINDS = {
    "internal": PassportKind.INTERNAL, "внутренний": PassportKind.INTERNAL, "паспорт_рф": PassportKind.INTERNAL,
    "паспорт": PassportKind.INTERNAL, "рф": PassportKind.INTERNAL,
    "foreign": PassportKind.FOREIGN, "заграничный": PassportKind.FOREIGN, "загран": PassportKind.FOREIGN,
    "загранпаспорт": PassportKind.FOREIGN, "заграничный_паспорт": PassportKind.FOREIGN,
    "birth_certificate": PassportKind.BIRTH_CERTIFICATE, "свидетельство": PassportKind.BIRTH_CERTIFICATE,
    "свидетельство_о_рождении": PassportKind.BIRTH_CERTIFICATE,
}

# reason codes of a rejected row (stable, for machines) -> what the field was
REASONS = {
    "missing_name": "Не указаны фамилия или имя.",
    "bad_phone": "Некорректный телефон.",
    "bad_email": "Некорректный e-mail.",
    "bad_telegram": "Некорректный Telegram.",
    "bad_date": "Некорректная дата.",
    "bad_passport": "Некорректный документ.",
    "bad_citizenship": "Гражданство — код страны из двух латинских букв.",
    "too_long": "Слишком длинное значение.",
    "no_identifier": "Нужен хотя бы один телефон, e-mail, Telegram или номер документа — иначе дубликаты не найти.",
    "bad_row": "Строка не разобрана.",
}


@dataclass
class RowError:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass
class PreparedRow:
    line: int
    values: dict = field(default_factory=dict)  # Client fields
    contacts: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, normalised value, blind index)
    passport: PreparedPassport | None = None
    errors: list[RowError] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def keys(self) -> list[tuple[str, str]]:
        """(matched_on, blind index) of every identifier of the row."""
        keys = [(kind, index) for kind, _value, index in self.contacts]
        if self.passport is not None:
            keys.append(("passport", self.passport.index))
        return keys

    def new_client(self, operator=None) -> Client:
        client = Client(**self.values, operator=operator)
        client.search_name = build_search_name(*(self.values.get(name, "") for name in NAME_FIELDS))
        return client


def _cell(cells: list[str], columns: dict[str, int], name: str) -> str:
    position = columns.get(name)
    if position is None or position >= len(cells):
        return ""
    return cells[position].strip()


def parse_date(text: str) -> dt.date | None:
    if not text:
        return None
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    raise ValueError(text)


def prepare_row(line: int, cells: list[str], columns: dict[str, int]) -> PreparedRow:
    row = PreparedRow(line=line)
    _names(row, cells, columns)
    _birth_date_and_citizenship(row, cells, columns)
    for kind, column in ((PHONE, "phone"), (EMAIL, "email"), (TELEGRAM, "telegram")):
        _contacts(row, kind, _cell(cells, columns, column), column)
    _passport(row, cells, columns)
    notes = _cell(cells, columns, "notes")
    if notes:
        row.values["notes"] = notes[:5000]
    if row.is_valid and not row.keys():
        row.errors.append(RowError("", "no_identifier", REASONS["no_identifier"]))
    return row


def _names(row: PreparedRow, cells, columns) -> None:
    for name in NAME_FIELDS:
        value = " ".join(_cell(cells, columns, name).split())
        if len(value) > 100:
            row.errors.append(RowError(name, "too_long", f"{REASONS['too_long']} Не больше 100 символов."))
            continue
        row.values[name] = value
    if not row.values.get("last_name") or not row.values.get("first_name"):
        missing = "last_name" if not row.values.get("last_name") else "first_name"
        row.errors.append(RowError(missing, "missing_name", REASONS["missing_name"]))


def _birth_date_and_citizenship(row: PreparedRow, cells, columns) -> None:
    text = _cell(cells, columns, "birth_date")
    try:
        birth_date = parse_date(text)
    except ValueError:
        row.errors.append(RowError("birth_date", "bad_date", f"Некорректная дата рождения: «{text[:20]}»."))
        birth_date = None
    if birth_date is not None:
        if birth_date > timezone.localdate() or birth_date.year < 1900:
            row.errors.append(RowError("birth_date", "bad_date", "Дата рождения вне допустимого диапазона."))
        else:
            row.values["birth_date"] = birth_date
    citizenship = _cell(cells, columns, "citizenship").upper()
    if citizenship:
        if len(citizenship) != 2 or not citizenship.isascii() or not citizenship.isalpha():
            row.errors.append(RowError("citizenship", "bad_citizenship", REASONS["bad_citizenship"]))
        else:
            row.values["citizenship"] = citizenship
    elif "citizenship" in columns:
        row.values["citizenship"] = "RU"


def _contacts(row: PreparedRow, kind: str, text: str, column: str) -> None:
    if not text:
        return
    seen = {index for _kind, _value, index in row.contacts}
    for raw in _MULTI_SPLIT.split(text):
        raw = raw.strip()
        if not raw:
            continue
        try:
            value = normalize_contact(kind, raw)
        except ValidationError as error:
            row.errors.append(RowError(column, f"bad_{column}", error.messages[0]))
            continue
        index = contact_index(kind, value)
        if index not in seen:
            seen.add(index)
            row.contacts.append((kind, value, index))


def _passport_kind(text: str, series: str, number: str) -> str | None:
    """The given kind, or guessed from the format: a 4-digit series (or 10 digits) is a Russian passport."""
    if not text:
        internal = (series.isdigit() and len(series) == 4) or (not series and number.isdigit() and len(number) == 10)
        return PassportKind.INTERNAL if internal else PassportKind.FOREIGN
    return _PASSPORT_KINDS.get(re.sub(r"[\s\-]+", "_", text.lower().replace("ё", "е")))


def _passport(row: PreparedRow, cells, columns) -> None:
    series = _cell(cells, columns, "passport_series")
    number = _cell(cells, columns, "passport_number")
    if not series and not number:
        return
    kind_text = _cell(cells, columns, "passport_kind")
    series, number = "".join(series.split()), "".join(number.split())
    if not series and len(number) == 10 and number.isdigit():
        series, number = number[:4], number[4:]  # "4510123456" in one column
    kind = _passport_kind(kind_text, series, number)
    if kind is None:
        row.errors.append(RowError("passport_kind", "bad_passport", f"Неизвестный вид документа: «{kind_text[:30]}»."))
        return
    dates = {}
    for name in ("issue_date", "expiry_date"):
        text = _cell(cells, columns, f"passport_{name}")
        try:
            dates[name] = parse_date(text)
        except ValueError:
            row.errors.append(RowError(f"passport_{name}", "bad_date", f"Некорректная дата: «{text[:20]}»."))
            return
    issued_by = _cell(cells, columns, "passport_issued_by")[:300]
    passport, errors = prepare_passport(
        {"kind": kind, "series": series, "number": number, "issued_by": issued_by, **dates}, "passport"
    )
    for key, messages in errors.items():
        code = "bad_date" if key.endswith("_date") else "bad_passport"
        row.errors.append(RowError(key.replace(".", "_"), code, messages[0]))
    if passport is not None:
        if len(passport.series) > 20 or len(passport.number) > 30:
            row.errors.append(RowError("passport_number", "too_long", REASONS["too_long"]))
            return
        row.passport = passport
