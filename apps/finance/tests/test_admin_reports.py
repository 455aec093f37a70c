"""The admin's «Отчёты» section: every report page with filters, totals, an SVG chart, rows and files."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client as BrowserClient
from django.utils import timezone

from apps.finance.reports import REPORTS
from apps.finance.services import payment_create, supplier_payment_create
from apps.finance.tests.factories import make_client, make_order, make_supplier

pytestmark = pytest.mark.django_db


def browser(user) -> BrowserClient:
    client = BrowserClient()
    client.force_login(user)
    return client


@pytest.fixture
def books(make_user):
    supplier = make_supplier("Пегас")
    now = timezone.now()
    order = make_order("100000.00", client=make_client("Отчётова", "Ирина"), commission="10000.00",
                       supplier=supplier, deadline=now - timedelta(days=40),
                       cost_due_date=timezone.localdate() - timedelta(days=5))
    payment_create(order_id=order.pk, data={"amount": Decimal("30000.00"), "method": "cash"})
    supplier_payment_create(order_id=order.pk, data={"supplier": supplier, "amount": Decimal("20000.00"),
                                                     "method": "cash"})
    return {"accountant": make_user("accountant", is_staff=True), "operator": make_user("operator", is_staff=True),
            "supplier": supplier, "order": order}


def test_index_lists_reports_with_charts(books):
    page = browser(books["accountant"]).get("/admin/finance/financereport/")
    assert page.status_code == 200
    text = page.content.decode()
    for report in REPORTS.values():
        assert report.title in text
    assert text.count("<svg") >= 3 and "Долги клиентов по просрочке" in text
    assert "<script" not in text.split('id="content-main"')[1]  # charts need no JavaScript


@pytest.mark.parametrize("name", list(REPORTS))
def test_every_report_page_shows_totals_rows_and_files(books, name, django_assert_max_num_queries):
    web = browser(books["accountant"])
    web.get(f"/admin/finance/financereport/{name}/")  # sessions, permissions, content types warmed
    with django_assert_max_num_queries(12):
        page = web.get(f"/admin/finance/financereport/{name}/?currency=RUB")
    assert page.status_code == 200
    text = page.content.decode()
    assert f"/admin/finance/financereport/{name}/export/xlsx/?currency=RUB" in text
    assert f"/admin/finance/financereport/{name}/export/csv/?currency=RUB" in text


def test_debts_page_ageing_and_status_labels(books):
    web = browser(books["accountant"])
    text = web.get("/admin/finance/financereport/debts/").content.decode()
    assert "31–90 дней" in text and "70\u00a0000,00" in text and books["order"].number in text
    orders = web.get("/admin/finance/financereport/orders/").content.decode()
    assert "Подтверждён" in orders
    supplier = web.get(f"/admin/finance/financereport/supplier-debts/?supplier={books['supplier'].pk}")
    assert "70\u00a0000,00" in supplier.content.decode()  # 90 000 cost − 20 000 paid


def test_bad_filters_and_unknown_reports(books):
    web = browser(books["accountant"])
    bad = web.get("/admin/finance/financereport/debts/?date_from=2026-02-01&date_to=2026-01-01")
    assert bad.status_code == 200 and "Конец периода раньше начала" in bad.content.decode()
    assert web.get("/admin/finance/financereport/debts/?date_from=abc").status_code == 200
    assert web.get("/admin/finance/financereport/planets/").status_code == 404
    assert web.get("/admin/finance/financereport/debts/?page=999").status_code == 200


def test_operators_do_not_see_reports(books):
    web = browser(books["operator"])
    assert web.get("/admin/finance/financereport/").status_code == 403
    assert web.get("/admin/finance/financereport/debts/").status_code == 403


def test_statement_form_gives_pdf_and_xlsx_links(books):
    web = browser(books["accountant"])
    today = timezone.localdate()
    page = web.get(f"/admin/finance/financereport/statement/?supplier={books['supplier'].pk}"
                   f"&date_from={today - timedelta(days=30)}&date_to={today}&currency=RUB").content.decode()
    assert "format=pdf" in page and "format=xlsx" in page
    links = [part.split('"')[0].replace("&amp;", "&") for part in page.split('href="')[1:]]
    statement_pdf = next(link for link in links if "supplier-statements" in link and "format=pdf" in link)
    agent_pdf = next(link for link in links if "agent-reports" in link)
    assert web.get(statement_pdf).content[:5] == b"%PDF-" and web.get(agent_pdf).content[:5] == b"%PDF-"


def test_filters_pick_managers_and_suppliers_by_name_not_by_id(books, make_user):
    manager = make_user("operator", full_name="Менеджерова Ольга")
    web = browser(books["accountant"])
    text = web.get("/admin/finance/financereport/commissions/").content.decode()
    assert "(id)" not in text and "Менеджерова Ольга</option>" in text and "Пегас</option>" in text
    assert web.get(f"/admin/finance/financereport/orders/?operator={manager.pk}").status_code == 200
    unknown = web.get("/admin/finance/financereport/orders/?operator=999999").content.decode()
    assert "Выберите корректный вариант" in unknown  # a form error, not a 500
    statement = web.get("/admin/finance/financereport/statement/").content.decode()
    assert "Пегас</option>" in statement and "(id)" not in statement
