"""XLSX for people: the same columns as the CSV, written row by row (xlsxwriter's constant_memory:
each row goes to disk as it is written, so 50 000 rows take the memory of one)."""

import tempfile
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal

import xlsxwriter
from django.http import FileResponse
from django.utils import timezone

from apps.core.csv_export import Column

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SheetWriter:
    """One sheet of Russian-formatted cells: money with two decimals, dates DD.MM.YYYY."""

    def __init__(self, workbook: xlsxwriter.Workbook, title: str):
        safe = "".join(" " if char in "[]:*?/\\" else char for char in title)
        self.sheet = workbook.add_worksheet(" ".join(safe.split())[:31])
        self.bold = workbook.add_format({"bold": True})
        self.money = workbook.add_format({"num_format": "# ##0.00"})
        self.day = workbook.add_format({"num_format": "dd.mm.yyyy"})
        self.moment = workbook.add_format({"num_format": "dd.mm.yyyy hh:mm"})
        self.row = 0

    def write_row(self, values: list, *, bold: bool = False) -> None:
        for col, value in enumerate(values):
            self.write_cell(col, value, bold=bold)
        self.row += 1

    def write_cell(self, col: int, value, *, bold: bool = False) -> None:
        sheet, row = self.sheet, self.row
        if value is None:
            return
        if isinstance(value, bool):
            sheet.write_string(row, col, "да" if value else "нет")
        elif isinstance(value, Decimal):
            sheet.write_number(row, col, float(value), self.money if not bold else self.bold)
        elif isinstance(value, int | float):
            sheet.write_number(row, col, value, self.bold if bold else None)
        elif isinstance(value, datetime):
            local = timezone.localtime(value) if timezone.is_aware(value) else value
            sheet.write_datetime(row, col, local.replace(tzinfo=None), self.moment)
        elif isinstance(value, date):
            sheet.write_datetime(row, col, datetime.combine(value, time.min), self.day)  # a day, no zone
        else:
            sheet.write_string(row, col, " ".join(str(value).split()), self.bold if bold else None)


def xlsx_file(title: str, columns: list[Column], rows: Iterable, *, head=()):
    """The workbook in a temporary file (rewound), `head` lines above the table."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 — handed to FileResponse, which closes it
    workbook = xlsxwriter.Workbook(handle, {"constant_memory": True, "in_memory": False})
    sheet = SheetWriter(workbook, title)
    for line in head:
        sheet.write_row(line, bold=True)
    sheet.write_row([column.header for column in columns], bold=True)
    for row in rows:
        sheet.write_row([column.get(row) for column in columns])
    sheet.sheet.set_column(0, len(columns) - 1, 16)
    workbook.close()
    handle.seek(0)
    return handle


def xlsx_response(filename: str, title: str, columns: list[Column], rows: Iterable, *, head=()) -> FileResponse:
    return FileResponse(xlsx_file(title, columns, rows, head=head), as_attachment=True, filename=filename,
                        content_type=XLSX_TYPE)
