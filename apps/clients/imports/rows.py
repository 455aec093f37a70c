"""One CSV row -> a prepared client (normalised values, blind indexes) or the reasons it is refused.

Normalisation and blind indexes come from the clients app (apps.clients.normalization and
prepare_passport), so an imported client is indexed exactly like one created through the API.
"""

import datetime as dt
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.clients.imports.fast import BlindIndexer, fast_email, fast_phone
from apps.clients.models import PassportKind, build_search_name
from apps.clients.normalization import EMAIL, PHONE, TELEGRAM, normalize_contact
from apps.clients.services import PreparedPassport
from apps.core.normalize import normalize_passport

NAME_FIELDS = ("last_name", "first_name", "middle_name", "last_name_latin", "first_name_latin")
_MULTI_SPLIT = re.compile(r"[,;]+")
_DATE_PATTERNS = (
    (re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})"), (3, 2, 1)),  # ДД.ММ.ГГГГ
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"), (1, 2, 3)),  # ГГГГ-ММ-ДД
    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"), (3, 2, 1)),  # ДД/ММ/ГГГГ
)
_NORMALISERS = {PHONE: fast_phone, EMAIL: fast_email, TELEGRAM: lambda value: normalize_contact(TELEGRAM, value)}

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

    def identifiers(self) -> list[tuple[str, str]]:
        """(matched_on, blind index) of every identifier of the row."""
        keys = [(kind, index) for kind, _value, index in self.contacts]
        if self.passport is not None:
            keys.append(("passport", self.passport.index))
        return keys

    def client_row(self, operator_id: int | None = None) -> dict:
        """The new client's column values by attname (what Client.save() would compute too)."""
        return {
            **self.values,
            "operator_id": operator_id,
            "search_name": build_search_name(*(self.values.get(name, "") for name in NAME_FIELDS)),
        }


def _cell(cells: list[str], columns: dict[str, int], name: str) -> str:
    position = columns.get(name)
    if position is None or position >= len(cells):
        return ""
    return cells[position].strip()


def parse_date(text: str) -> dt.date | None:
    """ДД.ММ.ГГГГ, ГГГГ-ММ-ДД or ДД/ММ/ГГГГ; empty -> None; anything else -> ValueError."""
    if not text:
        return None
    for pattern, (year, month, day) in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            return dt.date(int(match[year]), int(match[month]), int(match[day]))
    raise ValueError(text)


@dataclass
class RowContext:
    """What every row of one import shares: the blind-index key (prepared once) and today's date."""

    index: BlindIndexer = field(default_factory=BlindIndexer)
    today: dt.date = field(default_factory=timezone.localdate)


def prepare_row(line: int, cells: list[str], columns: dict[str, int], context: RowContext | None = None) -> PreparedRow:
    context = context or RowContext()
    row = PreparedRow(line=line)
    _names(row, cells, columns)
    _birth_date_and_citizenship(row, cells, columns, context)
    for kind, column in ((PHONE, "phone"), (EMAIL, "email"), (TELEGRAM, "telegram")):
        _contacts(row, kind, _cell(cells, columns, column), column, context)
    _passport(row, cells, columns, context)
    notes = _cell(cells, columns, "notes")
    if notes:
        row.values["notes"] = notes[:5000]
    if row.is_valid and not row.identifiers():
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


def _birth_date_and_citizenship(row: PreparedRow, cells, columns, context: RowContext) -> None:
    text = _cell(cells, columns, "birth_date")
    try:
        birth_date = parse_date(text)
    except ValueError:
        row.errors.append(RowError("birth_date", "bad_date", f"Некорректная дата рождения: «{text[:20]}»."))
        birth_date = None
    if birth_date is not None:
        if birth_date > context.today or birth_date.year < 1900:
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


def _contacts(row: PreparedRow, kind: str, text: str, column: str, context: RowContext) -> None:
    if not text:
        return
    for raw in _MULTI_SPLIT.split(text) if ("," in text or ";" in text) else (text,):
        raw = raw.strip()
        if not raw:
            continue
        try:
            value = _NORMALISERS[kind](raw)
        except ValidationError as error:
            row.errors.append(RowError(column, f"bad_{column}", error.messages[0]))
            continue
        index = context.index(kind, value)  # phone, email and telegram are their own namespaces
        if all(index != known for _kind, _value, known in row.contacts):
            row.contacts.append((kind, value, index))


def _passport_kind(text: str, series: str, number: str) -> str | None:
    """The given kind, or guessed from the format: a 4-digit series (or 10 digits) is a Russian passport."""
    if not text:
        internal = (series.isdigit() and len(series) == 4) or (not series and number.isdigit() and len(number) == 10)
        return PassportKind.INTERNAL if internal else PassportKind.FOREIGN
    return _PASSPORT_KINDS.get(re.sub(r"[\s\-]+", "_", text.lower().replace("ё", "е")))


def _passport(row: PreparedRow, cells, columns, context: RowContext) -> None:
    """The same rules as apps.clients.services.prepare_passport, with the import's fast index."""
    series = "".join(_cell(cells, columns, "passport_series").split()).upper()
    number = "".join(_cell(cells, columns, "passport_number").split()).upper()
    if not series and not number:
        return
    if not series and len(number) == 10 and number.isdigit():
        series, number = number[:4], number[4:]  # "4510123456" in one column
    kind_text = _cell(cells, columns, "passport_kind")
    kind = _passport_kind(kind_text, series, number)
    if kind is None:
        row.errors.append(RowError("passport_kind", "bad_passport", f"Неизвестный вид документа: «{kind_text[:30]}»."))
        return
    if not number:
        row.errors.append(RowError("passport_number", "bad_passport", "Укажите номер документа."))
        return
    if kind == PassportKind.INTERNAL and not (
        series.isdigit() and len(series) == 4 and number.isdigit() and len(number) == 6
    ):
        row.errors.append(RowError("passport_number", "bad_passport", "Паспорт РФ: серия — 4 цифры, номер — 6 цифр."))
        return
    if len(series) > 20 or len(number) > 30:
        row.errors.append(RowError("passport_number", "too_long", REASONS["too_long"]))
        return
    try:
        normalised = normalize_passport(series + number)
    except ValidationError as error:
        row.errors.append(RowError("passport_number", "bad_passport", error.messages[0]))
        return
    dates = _passport_dates(row, cells, columns, context)
    if dates is None:
        return
    row.passport = PreparedPassport(
        kind=kind, series=series, number=number, index=context.index("passport", normalised),
        issue_date=dates[0], expiry_date=dates[1], issued_by=_cell(cells, columns, "passport_issued_by")[:300],
    )


def _passport_dates(row: PreparedRow, cells, columns, context: RowContext):
    dates = []
    for name in ("issue_date", "expiry_date"):
        text = _cell(cells, columns, f"passport_{name}")
        try:
            dates.append(parse_date(text))
        except ValueError:
            row.errors.append(RowError(f"passport_{name}", "bad_date", f"Некорректная дата: «{text[:20]}»."))
            return None
    issue_date, expiry_date = dates
    if issue_date and issue_date > context.today:
        row.errors.append(RowError("passport_issue_date", "bad_date", "Дата выдачи не может быть в будущем."))
        return None
    if issue_date and expiry_date and expiry_date < issue_date:
        row.errors.append(
            RowError("passport_expiry_date", "bad_date", "Срок действия не может заканчиваться раньше даты выдачи.")
        )
        return None
    return issue_date, expiry_date
