"""The reconciliation statement (акт сверки) with a supplier: opening balance, movements, closing balance."""

import io
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal

import pypdf
import pytest
from django.utils import timezone

from apps.finance.services import supplier_payment_create
from apps.finance.statements import supplier_statement
from apps.finance.tests.factories import MSK, make_order, make_requisites, make_supplier
from apps.orders.models import SupplierBalance

pytestmark = pytest.mark.django_db


@pytest.fixture
def pegas():
    """Pegas: a service of 90 000 net in March (before the period), paid 60 000 in March;
    in April a service of 19 000 net, a payment of 40 000 and a refund of 5 000 from Pegas;
    a draft's service in April (an offer: not in the statement)."""
    make_requisites()
    supplier = make_supplier("Пегас")
    march = make_order("100000.00", commission="10000.00", supplier=supplier,
                       start=datetime(2026, 3, 20, 10, 0, tzinfo=MSK))
    make_order("20000.00", commission="1000.00", supplier=supplier,
               start=datetime(2026, 4, 15, 0, 30, tzinfo=MSK))  # 14 April in UTC: the local day counts
    make_order("70000.00", supplier=supplier, confirm=False, start=datetime(2026, 4, 2, 10, 0, tzinfo=MSK))
    pay = supplier_payment_create
    pay(order_id=march.pk, data={"supplier": supplier, "amount": Decimal("60000.00"), "date": date(2026, 3, 25),
                                 "bank_doc_number": "101", "bank_doc_date": date(2026, 3, 25)})
    pay(order_id=march.pk, data={"supplier": supplier, "amount": Decimal("40000.00"), "date": date(2026, 4, 10),
                                 "bank_doc_number": "142", "bank_doc_date": date(2026, 4, 9)})
    pay(order_id=march.pk, data={"supplier": supplier, "type": "refund", "amount": Decimal("5000.00"),
                                 "date": date(2026, 4, 28)})
    return supplier


def test_statement_balances_by_hand(pegas):
    statement = supplier_statement(supplier_id=pegas.pk, date_from=date(2026, 4, 1), date_to=date(2026, 4, 30))
    # Opening: 90 000 owed for March − 60 000 paid = 30 000 we owe.
    assert statement.opening == Decimal("30000.00")
    assert [(m.day, m.debit, m.credit) for m in statement.movements] == [
        (date(2026, 4, 10), Decimal("40000.00"), Decimal("0")),  # our payment № 142
        (date(2026, 4, 15), Decimal("0"), Decimal("19000.00")),  # the April service, its local day
        (date(2026, 4, 28), Decimal("0"), Decimal("5000.00")),  # Pegas returned money to us
    ]
    assert statement.movements[0].document == "Оплата № 142 от 09.04.2026"
    # Closing: 30 000 + 19 000 + 5 000 − 40 000 = 14 000.
    assert (statement.total_debit, statement.total_credit, statement.closing) == (
        Decimal("40000.00"), Decimal("24000.00"), Decimal("14000.00"))
    # The same rule as the supplier debts: all the balances of Pegas add up to the closing balance.
    owed = sum(SupplierBalance.objects.filter(supplier=pegas).values_list("balance", flat=True))
    assert owed == statement.closing


def test_statement_as_pdf_xlsx_and_json(accountant_api, pegas, tmp_path):
    url = f"/api/v1/finance/supplier-statements/{pegas.pk}/?from=2026-04-01&to=2026-04-30"
    body = accountant_api.get(url).json()
    assert body["opening"] == "30000.00" and body["closing"] == "14000.00" and len(body["movements"]) == 3
    assert body["movements"][0] == {"date": "2026-04-10", "document": "Оплата № 142 от 09.04.2026",
                                    "order_number": body["movements"][0]["order_number"], "debit": "40000.00",
                                    "credit": "0.00"}
    pdf = accountant_api.get(url + "&format=pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    (tmp_path / "akt.pdf").write_bytes(pdf.content)
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Оплата № 142 от 09.04.2026" in text and "40 000,00" in text.replace("\u00a0", " ")
    assert "30 000,00" in text.replace("\u00a0", " ") and "14 000,00" in text.replace("\u00a0", " ")
    xlsx = accountant_api.get(url + "&format=xlsx")
    assert xlsx.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(xlsx.streaming_content))) as archive:
        text = archive.read("xl/worksheets/sheet1.xml").decode()  # constant_memory: strings inline
    assert "Акт сверки взаимных расчётов" in text and "задолженность" in text


@pytest.mark.parametrize("query", ["from=2026-05-01&to=2026-04-01", "from=x&to=y", "from=2020-01-01&to=2026-01-01",
                                   "from=2026-04-01&to=2026-04-30&currency=XXX", ""])
def test_statement_bad_parameters(accountant_api, pegas, query):
    response = accountant_api.get(f"/api/v1/finance/supplier-statements/{pegas.pk}/?{query}")
    assert response.status_code == 400 and response.json()["code"] == "validation_error"


def test_statement_missing_supplier_and_roles(accountant_api, operator_api, pegas):
    today = timezone.localdate()
    missing = accountant_api.get(f"/api/v1/finance/supplier-statements/999999/?from={today}&to={today}")
    assert missing.status_code == 404
    url = f"/api/v1/finance/supplier-statements/{pegas.pk}/?from={today - timedelta(days=1)}&to={today}"
    assert operator_api.get(url).status_code == 403


def test_statement_query_count_does_not_grow_with_movements(accountant_api, pegas, django_assert_max_num_queries):
    url = f"/api/v1/finance/supplier-statements/{pegas.pk}/?from=2026-01-01&to=2026-12-31"
    accountant_api.get(url)
    with django_assert_max_num_queries(9):  # supplier, 2 opening sums, 2 row queries, heavy slot, savepoints
        assert len(accountant_api.get(url).json()["movements"]) == 5


def test_agent_report_to_a_tour_operator(accountant_api, pegas):
    from apps.finance.statements import agent_report

    report = agent_report(supplier_id=pegas.pk, date_from=date(2026, 3, 1), date_to=date(2026, 4, 30))
    # March: 100 000 with 10 000 reward; April: 20 000 with 1 000; the draft is not sold.
    assert [(x.price, x.reward, x.due) for x in report.lines] == [
        (Decimal("100000.00"), Decimal("10000.00"), Decimal("90000.00")),
        (Decimal("20000.00"), Decimal("1000.00"), Decimal("19000.00"))]
    assert report.totals == (Decimal("120000.00"), Decimal("11000.00"), Decimal("109000.00"))
    url = f"/api/v1/finance/agent-reports/{pegas.pk}/?from=2026-03-01&to=2026-04-30"
    body = accountant_api.get(url).json()
    assert body["reward"] == "11000.00" and len(body["lines"]) == 2
    pdf = accountant_api.get(url + "&format=pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert accountant_api.get(f"/api/v1/finance/agent-reports/{pegas.pk}/?from=x").status_code == 400


def _long_statement(count: int):
    """A statement of `count` movements built directly (the rendering does not depend on where they
    come from): payments, services, and every 40th a long document that wraps to two or three lines."""
    from apps.finance.statements import Movement, Statement

    movements = []
    for i in range(count):
        day = date(2026, 1 + i % 12, 1 + i % 28)
        if i % 40 == 39:
            movements.append(Movement(day, f"Возврат от поставщика № {i} от 01.02.2026 по претензии о несоответствии "
                                           "размещения описанию тура", f"2026-{i:06d}", credit=Decimal("10.00")))
        elif i % 2:
            movements.append(Movement(day, f"Оплата № {i} от 01.02.2026", f"2026-{i:06d}", debit=Decimal(i)))
        else:
            movements.append(Movement(day, "Услуги: проживание", f"2026-{i:06d}", credit=Decimal(i) + Decimal("0.5")))
    return Statement(supplier_id=1, supplier_name="ООО «Пегас Туристик»", supplier_inn="7701234567", currency="RUB",
                     date_from=date(2026, 1, 1), date_to=date(2026, 12, 31), opening=Decimal("-1500.00"),
                     movements=movements)


def _pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text().replace("\u00a0", " ") for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


@pytest.mark.parametrize("processes", [1, 2])
def test_long_statement_pdf_pages_in_one_or_parallel_processes(settings, processes):
    """The pages cut in Python: in one process or laid out by groups in forked children and concatenated,
    the PDF has the planned pages, «стр. N из M» on each, every movement once, the totals and signatures
    on the last page, the column titles on every page."""
    from apps.finance.statements import _amount, statement_pages, statement_pdf

    make_requisites()
    settings.STATEMENT_PDF_PROCESSES = processes
    statement = _long_statement(1300)
    planned = statement_pages(statement, agency_name="x", accountant_name="y")
    assert len(planned) >= 12 and planned[0].first and planned[-1].last
    pages = _pages_text(statement_pdf(statement))
    assert len(pages) == len(planned)
    for number, text in enumerate(pages, start=1):
        assert text.rstrip().endswith(f"стр. {number} из {len(pages)}"), text[-80:]
        assert "Дата" in text and "(оплачено нами)" in text
    whole = "\n".join(pages)
    assert all(whole.count(f"2026-{i:06d}") == 1 for i in range(1300))
    assert "Сальдо на начало периода" in pages[0] and "1 500,00" in pages[0]
    total_debit, total_credit = _amount(statement.total_debit), _amount(statement.total_credit)
    assert "Обороты за период" in pages[-1] and total_debit.replace("\u00a0", " ") in pages[-1]
    assert total_credit.replace("\u00a0", " ") in pages[-1] and "Главный бухгалтер" in pages[-1]
    assert "Обороты за период" not in "".join(pages[:-1])


def test_statement_pdf_lays_out_whole_when_the_pagination_is_off(settings, monkeypatch):
    """Should the Python pagination ever plan more lines than a page holds, the groups come out with more
    pages than planned: the statement is then laid out in one document and the numbers still add up."""
    from apps.finance import statements

    make_requisites()
    settings.STATEMENT_PDF_PROCESSES = 2
    monkeypatch.setattr(statements, "PAGE_LINES", 120)  # more than fit: every planned page overflows
    pages = _pages_text(statements.statement_pdf(_long_statement(900)))
    assert len(pages) > len(statements.statement_pages(_long_statement(900), agency_name="x", accountant_name="y"))
    for number, text in enumerate(pages, start=1):
        assert text.rstrip().endswith(f"стр. {number} из {len(pages)}")
