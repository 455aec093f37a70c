import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.finance.models import CurrencyRate, Payment
from apps.finance.services import payment_create
from apps.finance.tests.factories import MSK, make_client, make_order, make_supplier

pytestmark = pytest.mark.django_db


def pay(order, amount, **data):
    return payment_create(order_id=order.pk, data={"amount": Decimal(amount), **data})


def read_csv(response) -> list[list[str]]:
    content = b"".join(response.streaming_content)
    assert content.startswith("\ufeff".encode())
    text = content.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text), delimiter=";"))


@pytest.fixture
def book(operator, make_user):
    """Two clients, three orders (one overdue debtor, one paid, one draft), two suppliers."""
    other_operator = make_user("operator")
    ivanova, petrov = make_client("Иванова", "Мария", middle_name="Петровна"), make_client("Петров", "Олег")
    sup_a, sup_b = make_supplier("Пегас"), make_supplier("Анекс")
    now = timezone.now()
    overdue = make_order("100000.00", client=ivanova, operator=operator, deadline=now - timedelta(days=10),
                         commission="10000.00", supplier=sup_a)
    paid = make_order("50000.00", client=ivanova, operator=other_operator, deadline=now - timedelta(days=30),
                      commission="5000.00", supplier=sup_b)
    later = make_order("20000.00", client=petrov, operator=operator, deadline=now + timedelta(days=5),
                       commission="1000.00", supplier=sup_a)
    pay(overdue, "30000.00")
    pay(paid, "50000.00")
    return {"overdue": overdue, "paid": paid, "later": later, "ivanova": ivanova, "petrov": petrov,
            "operator": operator, "other_operator": other_operator}


def test_clients_report(accountant_api, book, django_assert_max_num_queries):
    with django_assert_max_num_queries(9):  # + the totals for the filter
        body = accountant_api.get("/api/v1/reports/clients/").json()
    rows = {row["client_name"]: row for row in body["results"]}
    assert rows["Иванова Мария Петровна"]["orders"] == 2
    assert Decimal(rows["Иванова Мария Петровна"]["turnover"]) == Decimal("150000.00")
    assert Decimal(rows["Иванова Мария Петровна"]["paid"]) == Decimal("80000.00")
    assert Decimal(rows["Иванова Мария Петровна"]["debt"]) == Decimal("70000.00")
    assert Decimal(rows["Петров Олег"]["debt"]) == Decimal("20000.00")
    filtered = accountant_api.get(f"/api/v1/reports/clients/?operator={book['other_operator'].pk}").json()
    assert filtered["count"] == 1 and Decimal(filtered["results"][0]["debt"]) == 0
    assert accountant_api.get("/api/v1/reports/clients/?currency=USD").json()["count"] == 0
    rows = read_csv(accountant_api.get("/api/v1/reports/clients/csv/"))
    assert rows[0] == ["Клиент", "ID клиента", "Валюта", "Заказов", "Оборот", "Оплачено", "Долг"]
    assert rows[1] == ["Иванова Мария Петровна", str(book["ivanova"].pk), "RUB", "2", "150000,00", "80000,00",
                       "70000,00"]


def test_debts_report_oldest_first_with_days_overdue(accountant_api, book, django_assert_max_num_queries):
    with django_assert_max_num_queries(9):  # the totals give the count too
        body = accountant_api.get("/api/v1/reports/debts/").json()
    assert [row["number"] for row in body["results"]] == [book["overdue"].number, book["later"].number]
    first = body["results"][0]
    assert first["days_overdue"] in (10, 11) and Decimal(first["balance_due"]) == Decimal("70000.00")
    assert body["results"][1]["days_overdue"] == 0
    only = accountant_api.get(f"/api/v1/reports/debts/?client={book['petrov'].pk}").json()
    assert [row["number"] for row in only["results"]] == [book["later"].number]


def test_orders_report_and_csv(accountant_api, book):
    body = accountant_api.get("/api/v1/reports/orders/?page_size=2").json()
    assert body["count"] == 3 and len(body["results"]) == 2
    row = next(r for r in accountant_api.get("/api/v1/reports/orders/").json()["results"]
               if r["number"] == book["overdue"].number)
    assert Decimal(row["commission"]) == Decimal("10000.00") and Decimal(row["balance_due"]) == Decimal("70000.00")
    response = accountant_api.get("/api/v1/reports/orders/?format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = read_csv(response)
    assert rows[0][:3] == ["Номер заказа", "Дата", "Статус"]
    overdue = next(r for r in rows if r[0] == book["overdue"].number)
    assert "100000,00" in overdue and "70000,00" in overdue
    assert overdue[1].count(".") == 2 and overdue[1][2] == "."  # DD.MM.YYYY HH:MM
    suffix = accountant_api.get("/api/v1/reports/orders/csv/")
    assert read_csv(suffix) == rows


def test_commissions_report(accountant_api, book):
    body = accountant_api.get("/api/v1/reports/commissions/?group_by=supplier").json()
    by_supplier = {row["supplier_name"]: Decimal(row["commission"]) for row in body["results"]}
    assert by_supplier == {"Анекс": Decimal("5000.00"), "Пегас": Decimal("11000.00")}
    full = accountant_api.get("/api/v1/reports/commissions/").json()["results"]
    assert {row["operator_name"] for row in full} == {book["operator"].full_name, book["other_operator"].full_name}
    assert accountant_api.get("/api/v1/reports/commissions/?group_by=planet").status_code == 400
    rows = read_csv(accountant_api.get("/api/v1/reports/commissions/csv/"))
    assert rows[0][0] == "Месяц" and rows[1][0].count(".") == 1


def test_fx_report(accountant_api):
    day, later = timezone.localdate() - timedelta(days=5), timezone.localdate()
    CurrencyRate.objects.create(date=day, currency="USD", rate=Decimal("90"), source="cbr")
    CurrencyRate.objects.create(date=later, currency="USD", rate=Decimal("95"), source="cbr")
    CurrencyRate.objects.create(date=later, currency="USD", rate=Decimal("96"), source="manual")
    order = make_order("100000.00")
    pay(order, "100.00", currency="USD", date=day)
    pay(order, "10.00", currency="USD", date=day, type="refund")
    pay(order, "5000.00")  # same currency: no difference, not listed
    # The report reads the flag set on create (partial index finance_payment_fx_idx), not a join.
    assert list(Payment.objects.order_by("id").values_list("in_other_currency", flat=True)) == [True, True, False]
    body = accountant_api.get(f"/api/v1/reports/fx/?on_date={later}").json()
    assert body["count"] == 2
    payment, refund = body["results"]
    assert Decimal(payment["amount_on_date"]) == Decimal("9600.00")  # the manual rate of that date wins
    assert Decimal(payment["difference"]) == Decimal("600.00")
    assert Decimal(refund["difference"]) == Decimal("-60.00")
    missing = accountant_api.get(f"/api/v1/reports/fx/?on_date={later - timedelta(days=1)}").json()
    assert missing["results"][0]["difference"] is None


@pytest.mark.parametrize("query", ["date_from=2026-13-01", "date_from=2026-02-01&date_to=2026-01-01",
                                   "operator=abc", "currency=XYZ", "page=999"])
def test_report_bad_filters(accountant_api, query):
    response = accountant_api.get(f"/api/v1/reports/clients/?{query}")
    assert response.status_code in (400, 404)
    assert set(response.json()) >= {"code", "detail", "fields"}


def test_period_filter_uses_local_days(accountant_api, operator):
    order = make_order("100.00", operator=operator)
    local_day = timezone.localtime(order.created_at).date()
    assert accountant_api.get(f"/api/v1/reports/orders/?date_from={local_day}&date_to={local_day}").json()[
        "count"] == 1
    assert accountant_api.get(f"/api/v1/reports/orders/?date_to={local_day - timedelta(days=1)}").json()[
        "count"] == 0
    assert datetime.now(MSK)  # the project's time zone is Moscow


def test_window_paginated_report_pages(accountant_api, book, django_assert_max_num_queries):
    with django_assert_max_num_queries(9):  # + the totals for the filter
        first = accountant_api.get("/api/v1/reports/clients/?page_size=1").json()
    assert first["count"] == 2 and len(first["results"]) == 1 and first["previous"] is None
    assert "page=2" in first["next"]
    second = accountant_api.get("/api/v1/reports/clients/?page_size=1&page=2").json()
    assert second["next"] is None and second["previous"] is not None
    assert second["results"][0]["client_id"] != first["results"][0]["client_id"]
    assert accountant_api.get("/api/v1/reports/clients/?page=3").status_code == 404
    assert accountant_api.get("/api/v1/reports/clients/?page=abc").status_code == 404
    empty = accountant_api.get("/api/v1/reports/clients/?currency=USD").json()
    assert empty == {"count": 0, "next": None, "previous": None, "results": [], "totals": []}


@pytest.mark.parametrize("name", ["clients", "orders", "debts", "commissions", "fx", "supplier-debts", "sales",
                                  "funnel"])
def test_every_report_page_and_csv_run_a_constant_number_of_queries(name, accountant_api, book,
                                                                      django_assert_max_num_queries):
    accountant_api.get(f"/api/v1/reports/{name}/")  # the user's permissions are cached from here on
    accountant_api.get(f"/api/v1/reports/{name}/csv/")  # and the export audit entry's content type
    # A page: its query (+ count), the statement that sets custom plans and work_mem (apps.core.db) and,
    # because a test runs inside a transaction, the SAVEPOINT / RELEASE of custom_plans()' atomic block;
    # pages and CSV alike take and give back a heavy slot (apps.core.heavy): 2 statements.
    with django_assert_max_num_queries(8):  # + the totals for the filter
        assert accountant_api.get(f"/api/v1/reports/{name}/?page_size=200").status_code == 200
    with django_assert_max_num_queries(5):  # + the bounded count deciding on a background job (apps.jobs.exports)
        response = accountant_api.get(f"/api/v1/reports/{name}/csv/")
        assert len(read_csv(response)) >= 1


def test_supplier_balances_carry_the_order_currency(accountant_api):
    from apps.orders.models import SupplierBalance

    supplier = make_supplier()
    for back in (0, 1):
        CurrencyRate.objects.create(date=timezone.localdate() - timedelta(days=back), currency="EUR",
                                    rate=Decimal("100"), source="cbr")
    order = make_order("100000.00", currency="EUR", supplier=supplier, cost="80000.00")
    make_order("500.00", supplier=supplier, cost="400.00")
    assert SupplierBalance.objects.get(order=order).currency == "EUR"
    # The report's currency filter and totals read the row's own currency (no join of the orders).
    body = accountant_api.get("/api/v1/reports/supplier-debts/?currency=EUR").json()
    assert body["count"] == 1 and [row["currency"] for row in body["results"]] == ["EUR"]
    owed = SupplierBalance.objects.get(order=order).balance
    assert [(row["currency"], Decimal(row["total"])) for row in body["totals"]] == [("EUR", owed)]
    every = accountant_api.get("/api/v1/reports/supplier-debts/").json()["totals"]
    assert [(row["currency"], Decimal(row["total"])) for row in every] == [("EUR", owed), ("RUB", Decimal("400.00"))]
