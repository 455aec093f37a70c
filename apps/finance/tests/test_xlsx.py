"""The streamed XLSX writer: the package opens in openpyxl with the values, types and formats it wrote."""

from datetime import date, datetime
from decimal import Decimal

import openpyxl
from django.utils import timezone

from apps.core.csv_export import Column
from apps.finance.xlsx import sheet_title, xlsx_file


def test_cells_read_back_with_their_types_and_formats():
    columns = [Column("Текст", "text"), Column("Сумма", "money"), Column("День", "day"), Column("Момент", "moment"),
               Column("Число", "count"), Column("Флаг", "flag"), Column("Пусто", "empty")]
    rows = [
        {"text": "ООО «Рога & <Копыта>»\x01\n  второй", "money": Decimal("1234.5"), "day": date(2026, 3, 1),
         "moment": datetime(2026, 3, 1, 21, 30, tzinfo=timezone.get_fixed_timezone(0)), "count": 7, "flag": True,
         "empty": None},
        {"text": "", "money": Decimal("-0.01"), "day": None, "moment": None, "count": 0, "flag": False, "empty": ""},
    ]
    handle = xlsx_file("Отчёт: [долги]/клиенты и ещё очень длинное название", columns, iter(rows),
                       head=[["Заголовок отчёта"]])
    sheet = openpyxl.load_workbook(handle).active
    assert sheet.title == sheet_title("Отчёт: [долги]/клиенты и ещё очень длинное название") == \
        "Отчёт долги клиенты и ещё очень"
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Заголовок отчёта" and sheet["A1"].font.b
    assert values[1] == ("Текст", "Сумма", "День", "Момент", "Число", "Флаг", "Пусто") and sheet["B2"].font.b
    text, money, day, moment, count, flag, empty = values[2]
    assert text == "ООО «Рога & <Копыта>» второй"  # control character dropped, whitespace collapsed
    assert money == 1234.5 and sheet["B3"].number_format == "#,##0.00"
    assert day == datetime(2026, 3, 1) and sheet["C3"].number_format == "dd.mm.yyyy"
    # An aware moment is written in local time (Europe/Moscow in the settings): 21:30 UTC is 00:30 there.
    assert moment == datetime(2026, 3, 2, 0, 30) and sheet["D3"].number_format == "dd.mm.yyyy hh:mm"
    assert (count, flag, empty) == (7, "да", None)
    assert values[3] == (None, -0.01, None, None, 0, "нет", None)
