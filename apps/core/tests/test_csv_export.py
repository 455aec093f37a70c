from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from apps.core.csv_export import Column, csv_text, format_cell


def test_cells_as_russian_excel_reads_them():
    assert format_cell(Decimal("-1234.50")) == "-1234,50"
    assert format_cell(Decimal("0.1840000000")) == "0,1840000000"
    assert format_cell(date(2026, 3, 8)) == "08.03.2026"
    assert format_cell(datetime(2026, 3, 8, 21, 30, tzinfo=ZoneInfo("UTC"))) == "09.03.2026 00:30"  # Moscow
    assert format_cell(None) == "" and format_cell(True) == "да" and format_cell(7) == "7"
    assert format_cell("строка\r\nвторая") == "строка вторая"
    assert format_cell("=1+2") == "'=1+2" and format_cell("@SUM(A1)") == "'@SUM(A1)"
    assert format_cell("+7 *** ***-45-67") == "+7 *** ***-45-67"
    assert format_cell(time(9, 5)) == "09:05:00"


def test_file_has_bom_semicolons_crlf_and_quotes():
    text = csv_text([Column("Имя", "name"), Column("Сумма", "amount")],
                    [{"name": "ООО «Ромашка»; филиал", "amount": Decimal("10.5")}])
    assert text == '\ufeffИмя;Сумма\r\n"ООО «Ромашка»; филиал";10,5\r\n'
