"""The reconciliation statement with a supplier (акт сверки взаимных расчётов) for a period.

From the agency's side, in the orders' currency (one statement per currency):
- credit («Кредит»): the supplier's services we owe for — the net cost of each active service of a
  confirmed, paid or completed order, on the day the service starts — and its refunds to us;
- debit («Дебет»): what we paid it.
Balance = credit − debit: positive, we owe the supplier; negative, it owes us (an advance). The
rule is the one of the supplier debts report (orders.SupplierBalance), so the closing balance of
a statement up to the last service equals the supplier's debt there.
Four queries whatever the number of movements: two sums for the opening balance, two row queries.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import F, Min, Q, Sum
from django.utils import timezone

from apps.core.errors import BusinessError
from apps.core.money import ZERO
from apps.finance.models import SupplierPayment, SupplierPaymentType

SETTLED = ("confirmed", "paid", "completed")
SERVICE_LABELS = {"flight": "авиабилет", "rail": "ж/д билет", "hotel": "проживание", "transfer": "трансфер",
                  "local": "местная услуга"}


@dataclass(slots=True)
class Movement:
    day: date
    document: str
    order_number: str
    debit: Decimal = ZERO  # we paid the supplier
    credit: Decimal = ZERO  # the supplier's services, its refunds to us


@dataclass
class Statement:
    supplier_id: int
    supplier_name: str
    supplier_inn: str
    currency: str
    date_from: date
    date_to: date
    opening: Decimal
    movements: list[Movement] = field(default_factory=list)

    @property
    def total_debit(self) -> Decimal:
        return sum((m.debit for m in self.movements), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((m.credit for m in self.movements), ZERO)

    @property
    def closing(self) -> Decimal:
        return self.opening + self.total_credit - self.total_debit


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _services(supplier_id: int, currency: str):
    from apps.orders.models import Service

    return (Service.objects.filter(supplier_id=supplier_id, order__currency=currency, order__status__in=SETTLED)
            .exclude(status="cancelled"))


def _payments(supplier_id: int, currency: str):
    return SupplierPayment.objects.filter(supplier_id=supplier_id, order__currency=currency)


def _opening(supplier_id: int, currency: str, date_from: date) -> Decimal:
    """Credit − debit of everything before the period: one sum over services, one over payments."""
    accrued = _services(supplier_id, currency).filter(start_dt__lt=_start(date_from)).aggregate(
        value=Sum("cost_in_order_currency"))["value"] or ZERO
    sums = _payments(supplier_id, currency).filter(date__lt=date_from).aggregate(
        paid=Sum("amount_in_order_currency", filter=Q(type=SupplierPaymentType.PAYMENT)),
        refunded=Sum("amount_in_order_currency", filter=Q(type=SupplierPaymentType.REFUND)),
    )
    return accrued - (sums["paid"] or ZERO) + (sums["refunded"] or ZERO)


def _service_movements(supplier_id: int, currency: str, date_from: date, date_to: date):
    rows = (
        _services(supplier_id, currency)
        .filter(start_dt__gte=_start(date_from), start_dt__lt=_start(date_to + timedelta(days=1)))
        .values("id", "start_dt", "type", "cost_in_order_currency", order_number=F("order__number"))
        .order_by("start_dt", "id")
    )
    zone = timezone.get_current_timezone()
    for row in rows.iterator(chunk_size=2000):
        day = row["start_dt"].astimezone(zone).date()
        label = SERVICE_LABELS.get(row["type"], row["type"])
        yield (day, 0, row["id"], Movement(day, f"Услуги: {label}", row["order_number"],
                                           credit=row["cost_in_order_currency"]))


def _payment_movements(supplier_id: int, currency: str, date_from: date, date_to: date):
    rows = (
        _payments(supplier_id, currency).filter(date__gte=date_from, date__lte=date_to)
        .values("id", "date", "type", "amount_in_order_currency", "bank_doc_number", "bank_doc_date",
                order_number=F("order__number"))
        .order_by("date", "id")
    )
    for row in rows.iterator(chunk_size=2000):
        doc = f" № {row['bank_doc_number']} от {row['bank_doc_date']:%d.%m.%Y}" if row["bank_doc_number"] else ""
        if row["type"] == SupplierPaymentType.REFUND:
            movement = Movement(row["date"], f"Возврат от поставщика{doc}", row["order_number"],
                                credit=row["amount_in_order_currency"])
        else:
            movement = Movement(row["date"], f"Оплата{doc}", row["order_number"], debit=row["amount_in_order_currency"])
        yield (row["date"], 1, row["id"], movement)


def supplier_statement(*, supplier_id: int, date_from: date, date_to: date, currency: str = "RUB") -> Statement:
    from apps.orders.models import Supplier

    if date_from > date_to:
        raise BusinessError("Конец периода раньше начала.", code="validation_error",
                            fields={"date_to": ["Конец периода раньше начала."]})
    if (date_to - date_from).days > 731:
        raise BusinessError("Акт сверки — не больше чем за два года.", code="validation_error",
                            fields={"date_to": ["Период не больше двух лет."]})
    supplier = Supplier.objects.filter(pk=supplier_id).only("id", "name", "legal_name", "inn").first()
    if supplier is None:
        raise BusinessError("Поставщик не найден.", code="not_found", status_code=404)
    statement = Statement(
        supplier_id=supplier.pk, supplier_name=supplier.legal_name or supplier.name, supplier_inn=supplier.inn,
        currency=currency, date_from=date_from, date_to=date_to,
        opening=_opening(supplier.pk, currency, date_from),
    )
    merged = heapq.merge(_service_movements(supplier.pk, currency, date_from, date_to),
                         _payment_movements(supplier.pk, currency, date_from, date_to), key=lambda item: item[:3])
    statement.movements = [item[3] for item in merged]
    return statement


# --- Files -----------------------------------------------------------------------------------------


def _amount(value: Decimal) -> str:
    return f"{value:,.2f}".replace(",", "\u00a0").replace(".", ",") if value else ""


def _result(statement: Statement, agency_name: str) -> str:
    closing, day = statement.closing, f"{statement.date_to:%d.%m.%Y}"
    if closing > 0:
        return (f"На {day} задолженность {agency_name} перед {statement.supplier_name} составляет "
                f"{_amount(closing)} {statement.currency}.")
    if closing < 0:
        return (f"На {day} задолженность {statement.supplier_name} перед {agency_name} составляет "
                f"{_amount(-closing)} {statement.currency}.")
    return f"На {day} задолженность отсутствует."


def _chunks(rows: list, size: int = 40) -> list[list]:
    return [rows[start:start + size] for start in range(0, len(rows), size)] or [[]]


# The statement's movements are lines of fixed-width text (a monospaced font, «│» between columns), not
# an HTML table: WeasyPrint lays out a table cell by cell (≈ 16 boxes a row), a text line is one box —
# about 5× faster (BENCHMARKS.md, issue 17). Widths in characters; 113 fit the A4 page at 7.5 pt.
STATEMENT_WIDTHS = (10, 41, 12, 15, 15)

# The page, in points, as the template sets it (A4, margins 14 mm top and bottom; lines of 7.5 pt on
# 8.85 pt): the pages are cut here, in Python, so that groups of pages can be laid out at once
# (apps.finance.paged_pdf) and each page is a few blocks WeasyPrint never has to split.
MM = 72 / 25.4
LINE_PT = 8.85
PAGE_LINES = int((297 - 28) * MM / LINE_PT) - 2  # 84 of the 86 that fit: room for rounding
TEXT_PT = 8.5 * 1.3  # a line of the proportional text (title block, result, signatures)
TEXT_CHARS = 80  # fewer characters than fit a line of that text across the page: estimates err long
SIGN_CHARS = 36  # … and across half of it (a signature cell)
MIN_PAGES_PER_PROCESS = 6  # below this a fork and the merge cost more than they save


def _cells(values: tuple[str, ...]) -> list[str]:
    """One row as one or more text lines: the document wraps within its column, the others are cut to fit
    (a date, an order number and an amount always fit)."""
    import textwrap

    wrapped = [textwrap.wrap(value, width) or [""] if index == 1 else [value[:width]]
               for index, (value, width) in enumerate(zip(values, STATEMENT_WIDTHS, strict=True))]
    lines = []
    for line in range(max(len(cell) for cell in wrapped)):
        parts = []
        for index, (cell, width) in enumerate(zip(wrapped, STATEMENT_WIDTHS, strict=True)):
            text = cell[line] if line < len(cell) else ""
            parts.append(text.rjust(width) if index >= 3 else text.ljust(width))
        lines.append("│ " + " │ ".join(parts) + " │")
    return lines


def _rule(left: str, middle: str, right: str) -> str:
    return left + middle.join("─" * (width + 2) for width in STATEMENT_WIDTHS) + right


def _text_lines(*texts: str, chars: int = TEXT_CHARS) -> int:
    return sum(max(1, -(-len(text) // chars)) for text in texts)


def _units(points: float) -> int:
    """A height in points as a whole number of monospaced lines, rounded up."""
    return -(-int(points * 100) // int(LINE_PT * 100))


@dataclass
class StatementPage:
    number: int
    head: str  # bold lines: the frame's top and the column titles (on page 1 the opening balance too)
    body: str  # the movements on this page
    first: bool = False
    last: bool = False
    foot: str = ""  # the last page: totals and the closing balance, bold
    end: str = ""  # other pages: the frame's bottom line


def statement_pages(statement: Statement, *, agency_name: str, accountant_name: str) -> list[StatementPage]:
    """The PDF's pages: rows never split across pages, the column titles repeated on every page, the
    totals, the result and the signatures on the last one (with a few rows when they start a page).

    Heights are estimated from above (page 1's title block, the result and the signatures as lines of
    TEXT_CHARS), so a page never overflows; the renderer checks that the page count came out as planned.
    """
    opening, closing = statement.opening, statement.closing
    top = [_rule("┌", "┬", "┐"), *_cells(("Дата", "Документ", "Заказ", "Дебет", "Кредит")),
           *_cells(("", "", "", "(оплачено нами)", "(услуги,")), *_cells(("", "", "", "", "возвраты)")),
           _rule("├", "┼", "┤")]
    opening_lines = [*_cells((f"{statement.date_from:%d.%m.%Y}", "Сальдо на начало периода", "",
                              _amount(-opening) if opening < 0 else "", _amount(max(opening, ZERO)))),
                     _rule("├", "┼", "┤")]
    foot = [_rule("├", "┼", "┤"),
            *_cells(("", "Обороты за период", "", _amount(statement.total_debit), _amount(statement.total_credit))),
            *_cells((f"{statement.date_to:%d.%m.%Y}", "Сальдо на конец периода", "",
                     _amount(-closing) if closing < 0 else "", _amount(max(closing, ZERO)))),
            _rule("└", "┴", "┘")]
    inn = f" (ИНН {statement.supplier_inn})" if statement.supplier_inn else ""
    title = _units(12 * 1.3 + 2 * MM + 4 * MM + TEXT_PT * _text_lines(
        "за период с 01.01.2026 по 31.12.2026", f"между {agency_name} и {statement.supplier_name}{inn}",
        "валюта расчётов: XXX; дебет — оплачено нами, кредит — услуги поставщика и его возвраты"))
    signs = max(_text_lines(f"От {agency_name}", "", f"Главный бухгалтер ____________ {accountant_name}",
                            chars=SIGN_CHARS),
                _text_lines(f"От {statement.supplier_name}", "", "_" * 28, chars=SIGN_CHARS))
    tail = len(foot) + _units(4 * MM + TEXT_PT * _text_lines(_result(statement, agency_name))
                              + 10 * MM + 8 * MM + TEXT_PT * signs + 6)
    first_room = PAGE_LINES - title - len(top) - len(opening_lines) - 1
    room = PAGE_LINES - len(top) - 1  # the frame's bottom line ends every page but the last

    rows = [_cells((f"{m.day:%d.%m.%Y}", m.document, m.order_number, _amount(m.debit), _amount(m.credit)))
            for m in statement.movements]
    pages: list[list[list[str]]] = [[]]
    used, capacity = 0, first_room
    for row in rows:
        if used + len(row) > capacity and pages[-1]:
            pages.append([])
            used, capacity = 0, room
        pages[-1].append(row)
        used += len(row)
    if used + tail - 1 > capacity:  # the totals do not fit after the last rows: they take a few rows along
        carried = pages[-1][-3:] if len(pages[-1]) > 3 else []
        if carried:
            del pages[-1][-3:]
        pages.append(carried)
    result = []
    for number, page_rows in enumerate(pages, start=1):
        first, last = number == 1, number == len(pages)
        result.append(StatementPage(
            number=number, head="\n".join(top + opening_lines if first else top),
            body="\n".join(line for row in page_rows for line in row), first=first, last=last,
            foot="\n".join(foot) if last else "", end="" if last else _rule("└", "┴", "┘"),
        ))
    return result


def _agency():
    from apps.finance.models import AgencyRequisites

    requisites = AgencyRequisites.objects.first()
    if requisites is None:
        return "агентством", ""
    return requisites.short_name or requisites.legal_name, requisites.accountant_name


def _statement_html(statement: Statement, pages: list[StatementPage], context: dict, *, total: int | None) -> str:
    from django.template.loader import render_to_string

    return render_to_string("finance/supplier_statement.html", {
        **context, "s": statement, "pages": pages, "first_number": pages[0].number, "total": total})


def statement_pdf(statement: Statement) -> bytes:
    """A4 PDF through WeasyPrint (every external resource refused — the page uses only system fonts).

    The pages are cut in Python (statement_pages); a long statement is laid out in groups of pages at
    once in forked children and the PDFs concatenated (apps.finance.paged_pdf), each group printing
    «стр. N из M» with the literal total. Should a group come out with another page count than planned,
    the whole statement is laid out here in one document, WeasyPrint counting the pages.
    """
    import logging

    from apps.finance import paged_pdf

    agency_name, accountant_name = _agency()
    context = {"agency_name": agency_name, "accountant_name": accountant_name,
               "result": _result(statement, agency_name)}
    pages = statement_pages(statement, agency_name=agency_name, accountant_name=accountant_name)
    workers = min(paged_pdf.processes(), len(pages) // MIN_PAGES_PER_PROCESS)
    if workers > 1:
        size = -(-len(pages) // workers)
        groups = [pages[start:start + size] for start in range(0, len(pages), size)]
        try:
            return paged_pdf.groups_to_pdf(
                [(_statement_html(statement, group, context, total=len(pages)), len(group)) for group in groups],
                title=f"Акт сверки: {statement.supplier_name}")
        except paged_pdf.PageCountMismatch as error:
            logging.getLogger("travelcrm.finance").warning("statement PDF: pagination off (%s), laid out whole",
                                                           error)
    return paged_pdf.html_to_pdf(_statement_html(statement, pages, context, total=None))


def statement_xlsx(statement: Statement):
    """The same statement as a workbook (a temporary file, rewound)."""
    from apps.core.csv_export import Column
    from apps.finance.xlsx import xlsx_file

    agency_name, _ = _agency()
    columns = [Column("Дата", "day"), Column("Документ", "document"), Column("Заказ", "order_number"),
               Column("Дебет (оплачено нами)", "debit"), Column("Кредит (услуги, возвраты)", "credit")]
    opening, closing = statement.opening, statement.closing
    rows = [
        Movement(statement.date_from, f"Сальдо на {statement.date_from:%d.%m.%Y}", "",
                 debit=-opening if opening < 0 else None, credit=opening if opening > 0 else None),
        *statement.movements,
        Movement(statement.date_to, "Обороты за период", "", debit=statement.total_debit,
                 credit=statement.total_credit),
        Movement(statement.date_to, f"Сальдо на {statement.date_to:%d.%m.%Y}", "",
                 debit=-closing if closing < 0 else None, credit=closing if closing > 0 else None),
    ]
    head = [
        ["Акт сверки взаимных расчётов"],
        [f"за период с {statement.date_from:%d.%m.%Y} по {statement.date_to:%d.%m.%Y}, валюта {statement.currency}"],
        [f"между {agency_name} и {statement.supplier_name}"
         + (f" (ИНН {statement.supplier_inn})" if statement.supplier_inn else "")],
        [_result(statement, agency_name)],
    ]
    return xlsx_file("Акт сверки", columns, rows, head=head)


# --- The agent's report to a tour operator (отчёт агента) ------------------------------------------


@dataclass(slots=True)
class AgentLine:
    order_number: str
    client: str
    start: date
    price: Decimal  # what the tourist paid for the operator's services
    reward: Decimal  # the agency's commission (agent's reward)
    due: Decimal  # what the agency transfers to the operator (price − reward)


@dataclass
class AgentReport:
    supplier_name: str
    supplier_inn: str
    currency: str
    date_from: date
    date_to: date
    lines: list[AgentLine] = field(default_factory=list)

    @property
    def totals(self) -> tuple[Decimal, Decimal, Decimal]:
        return (sum((x.price for x in self.lines), ZERO), sum((x.reward for x in self.lines), ZERO),
                sum((x.due for x in self.lines), ZERO))


def agent_report(*, supplier_id: int, date_from: date, date_to: date, currency: str = "RUB") -> AgentReport:
    """The operator's services sold by the agency in the period (by the day the service starts), per
    order: price to the tourist, the agency's reward, what is due to the operator — one query."""
    from apps.orders.models import Supplier

    supplier = Supplier.objects.filter(pk=supplier_id).only("id", "name", "legal_name", "inn").first()
    if supplier is None:
        raise BusinessError("Поставщик не найден.", code="not_found", status_code=404)
    rows = (
        _services(supplier.pk, currency)
        .filter(start_dt__gte=_start(date_from), start_dt__lt=_start(date_to + timedelta(days=1)))
        .values("order_id", order_number=F("order__number"), last=F("order__client__last_name"),
                first=F("order__client__first_name"))
        .annotate(start=Min("start_dt"), price=Sum("price_in_order_currency"), cost=Sum("cost_in_order_currency"))
        .order_by("start", "order_id")
    )
    zone = timezone.get_current_timezone()
    report = AgentReport(supplier.legal_name or supplier.name, supplier.inn, currency, date_from, date_to)
    for row in rows:
        report.lines.append(AgentLine(row["order_number"], f"{row['last']} {row['first']}".strip(),
                                      row["start"].astimezone(zone).date(), row["price"], row["price"] - row["cost"],
                                      row["cost"]))
    return report


def agent_report_pdf(report: AgentReport) -> bytes:
    import weasyprint
    from django.template.loader import render_to_string
    from weasyprint.urls import URLFetcher

    class RefuseAll(URLFetcher):
        def fetch(self, url, headers=None):
            raise ValueError("Загрузка внешних ресурсов запрещена.")

    agency_name, accountant_name = _agency()
    price, reward, due = report.totals
    html = render_to_string("finance/agent_report.html", {
        "r": report, "agency_name": agency_name, "accountant_name": accountant_name,
        "chunks": _chunks([AgentLine(x.order_number, x.client, x.start, _amount(x.price), _amount(x.reward),
                                     _amount(x.due)) for x in report.lines]),
        "price": _amount(price), "reward": _amount(reward), "due": _amount(due),
    })
    return weasyprint.HTML(string=html, url_fetcher=RefuseAll()).write_pdf()
