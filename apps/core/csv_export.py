"""CSV that opens right in Russian Excel: UTF-8 with BOM, `;`, DD.MM.YYYY, decimal comma, Russian headers.

    columns = [Column("Дата", "date"), Column("Сумма", "amount"), Column("Клиент", lambda row: ...)]
    response = csv_response("payments.csv", columns, rows)        # rows: dicts or objects
"""

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone

from apps.core.files import attach_download_headers

BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PHONE_LIKE = re.compile(r"^\+[\d\s()*-]+$")  # "+7 *** ***-45-67" is text, not a formula


@dataclass(frozen=True)
class Column:
    header: str
    value: str | Callable[[Any], Any]

    def get(self, row) -> Any:
        if callable(self.value):
            return self.value(row)
        if isinstance(row, dict):
            return row.get(self.value)
        return getattr(row, self.value, None)


def format_cell(value: Any) -> str:
    """One cell as Russian Excel reads it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, Decimal | float):
        return format(Decimal(str(value)), "f").replace(".", ",")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    text = " ".join(str(value).split())  # one line per row; no stray line breaks
    if text.startswith(_FORMULA_START) and not _PHONE_LIKE.match(text):  # keep Excel from running text as a formula
        text = "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(columns: list[Column], rows: Iterable) -> Iterable[str]:
    """The file as text lines (BOM first); used for streaming and in tests."""
    writer = csv.writer(_Echo(), delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    yield BOM + writer.writerow([column.header for column in columns])
    for row in rows:
        yield writer.writerow([format_cell(column.get(row)) for column in columns])


def csv_text(columns: list[Column], rows: Iterable) -> str:
    buffer = io.StringIO()
    for line in csv_lines(columns, rows):
        buffer.write(line)
    return buffer.getvalue()


def csv_response(filename: str, columns: list[Column], rows: Iterable) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        (line.encode("utf-8") for line in csv_lines(columns, rows)), content_type="text/csv; charset=utf-8"
    )
    return attach_download_headers(response, filename)
