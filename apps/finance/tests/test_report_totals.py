"""The reports' totals against a book computed by hand (every figure below is worked out in the comments)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.finance.services import payment_create, supplier_payment_create
from apps.finance.tests.factories import make_client, make_order, make_supplier
from apps.leads.models import Lead
from apps.leads.services import lead_create_manual

pytestmark = pytest.mark.django_db


def money(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


@pytest.fixture
def ledger(operator):
    today = timezone.localdate()
    now = timezone.now()
    anna, boris = make_client("Аннина", "Анна"), make_client("Борисов", "Борис")
    pegas, anex = make_supplier("Пегас"), make_supplier("Анекс")
    # O1: 100 000, agent commission 10 000 → cost 90 000; client deadline 10 days ago (1–30);
    #     supplier due 40 days ago (31–90). Client paid 30 000, we paid Pegas 50 000.
    o1 = make_order("100000.00", client=anna, operator=operator, commission="10000.00", supplier=pegas,
                    deadline=now - timedelta(days=10), cost_due_date=today - timedelta(days=40))
    # O2: 50 000 resold with a markup: cost 42 000 (margin 8 000); deadline 100 days ago but fully paid.
    o2 = make_order("50000.00", client=anna, operator=operator, supplier=anex, cost="42000.00",
                    deadline=now - timedelta(days=100))
    # O3: 20 000, commission 1 000 → cost 19 000; client deadline in 5 days; supplier due in 3 days.
    o3 = make_order("20000.00", client=boris, supplier=pegas, commission="1000.00",
                    deadline=now + timedelta(days=5), cost_due_date=today + timedelta(days=3))
    # O4: a draft of 70 000: an offer — in no sale, debt or supplier debt.
    o4 = make_order("70000.00", client=boris, supplier=pegas, confirm=False)
    payment_create(order_id=o1.pk, data={"amount": Decimal("30000.00"), "method": "cash"})
    payment_create(order_id=o2.pk, data={"amount": Decimal("50000.00"), "method": "cash"})
    supplier_payment_create(order_id=o1.pk, data={"supplier": pegas, "amount": Decimal("50000.00"),
                                                  "method": "cash"})
    # Leads: three manual ones; one became O2 (paid), one O3 (unpaid), one nothing yet.
    leads = [lead_create_manual(data={"contact_name": f"Гость {n}", "text": "Тур"}) for n in range(3)]
    Lead.objects.filter(pk=leads[0].pk).update(order=o2)
    Lead.objects.filter(pk=leads[1].pk).update(order=o3)
    return {"orders": (o1, o2, o3, o4), "pegas": pegas, "anex": anex, "today": today}


def totals(api, name: str, query: str = "") -> list[dict]:
    response = api.get(f"/api/v1/reports/{name}/?{query}")
    assert response.status_code == 200, response.json()
    return response.json()["totals"]


def test_client_debts_with_ageing(accountant_api, ledger):
    # O1 owes 70 000 (1–30 days), O3 20 000 (not due); O2 is paid, O4 a draft.
    assert totals(accountant_api, "debts") == [{
        "currency": "RUB", "total": money(90000), "rows": 2, "ageing_not_due": money(20000),
        "ageing_1_30": money(70000), "ageing_31_90": money(0), "ageing_90_plus": money(0),
    }]
    only = accountant_api.get("/api/v1/reports/debts/?ageing=1_30").json()
    assert [row["number"] for row in only["results"]] == [ledger["orders"][0].number]


def test_supplier_debts_oldest_first_with_ageing(accountant_api, ledger):
    o1, o2, o3, _ = ledger["orders"]
    body = accountant_api.get("/api/v1/reports/supplier-debts/").json()
    # O1/Pegas 90 000 − 50 000 = 40 000 due 40 days ago; O3/Pegas 19 000 in 3 days; O2/Anex 42 000, no date.
    assert [(row["order_number"], row["balance"]) for row in body["results"]] == [
        (o1.number, money(40000)), (o3.number, money(19000)), (o2.number, money(42000))]
    assert body["results"][0]["days_overdue"] == 40 and body["results"][0]["paid"] == money(50000)
    assert body["totals"] == [{
        "currency": "RUB", "total": money(101000), "rows": 3, "ageing_not_due": money(61000),
        "ageing_1_30": money(0), "ageing_31_90": money(40000), "ageing_90_plus": money(0),
    }]
    pegas_only = totals(accountant_api, "supplier-debts", f"supplier={ledger['pegas'].pk}")
    assert pegas_only[0]["total"] == money(59000)


def test_sales_commissions_and_margin(accountant_api, ledger):
    # Settled orders O1–O3: sales 170 000; cost 90 000 + 42 000 + 19 000 = 151 000; margin 19 000
    # (10 000 + 8 000 + 1 000); commission 11 000 (the resale has none).
    sales = totals(accountant_api, "sales")
    assert sales == [{"currency": "RUB", "rows": 3, "sales": money(170000), "cost": money(151000),
                      "margin": money(19000), "commission": money(11000)}]
    commissions = totals(accountant_api, "commissions")
    assert commissions == [{"order_currency": "RUB", "rows": 3, "sales": money(170000),
                            "commission": money(11000), "cost": money(151000), "margin": money(19000)}]
    by_supplier = accountant_api.get("/api/v1/reports/commissions/?group_by=supplier").json()["results"]
    assert {row["supplier_name"]: row["margin"] for row in by_supplier} == {"Пегас": money(11000),
                                                                             "Анекс": money(8000)}


def test_orders_and_clients_totals(accountant_api, ledger):
    # Orders: all four; the draft's 70 000 is in the total but in no debt.
    assert totals(accountant_api, "orders") == [{
        "currency": "RUB", "rows": 4, "total_amount": money(240000), "paid_amount": money(80000),
        "refunded_amount": money(0), "commission": money(11000), "cost_amount": money(221000),
        "margin": money(19000), "debt": money(90000), "supplier_balance_due": money(101000),
    }]
    # Clients: Anna 150 000 / paid 80 000 / owes 70 000; Boris 20 000 / 0 / 20 000 (his draft is no sale).
    assert totals(accountant_api, "clients") == [{"currency": "RUB", "rows": 2, "turnover": money(170000),
                                                   "paid": money(80000), "debt": money(90000)}]


def test_funnel(accountant_api, ledger):
    assert totals(accountant_api, "funnel") == [{"currency": "", "rows": 3, "leads": 3, "orders": 2, "paid": 1}]
    by_channel = accountant_api.get("/api/v1/reports/funnel/").json()["results"]
    assert by_channel == [{"source": "manual", "leads": 3, "orders": 2, "paid": 1}]
    by_manager = accountant_api.get("/api/v1/reports/funnel/?by=operator").json()["results"]
    assert [row["leads"] for row in by_manager] == [3]


def test_xlsx_of_a_report_has_russian_labels(accountant_api, ledger, tmp_path):
    import zipfile

    response = accountant_api.get("/api/v1/reports/orders/xlsx/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    path = tmp_path / "orders.xlsx"
    path.write_bytes(b"".join(response.streaming_content))
    with zipfile.ZipFile(path) as archive:
        strings = archive.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in archive.namelist() \
            else archive.read("xl/worksheets/sheet1.xml").decode()
    assert "Подтверждён" in strings and "Черновик" in strings and "confirmed" not in strings


def test_period_boundaries_are_local_days(accountant_api, ledger):
    tomorrow = ledger["today"] + timedelta(days=1)
    assert totals(accountant_api, "sales", f"date_from={tomorrow}") == []
    assert totals(accountant_api, "sales", f"date_to={ledger['today']}")[0]["rows"] == 3
