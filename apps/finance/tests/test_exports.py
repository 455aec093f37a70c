import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from client_bank_exchange_1c import Statement
from django.utils import timezone

from apps.finance.services import payment_create, supplier_payment_create
from apps.finance.tests.factories import REQUISITES, make_client, make_order, make_requisites, make_supplier

pytestmark = pytest.mark.django_db

PAYER = {
    "payer_kind": "other",
    "payer_name": "ООО «Ромашка»",
    "payer_inn": "7707083893",
    "payer_account": "40702810800000054321",
    "payer_bank_name": "ПАО Сбербанк",
    "payer_bik": "044525225",
    "payer_corr_account": "30101810400000000225",
}


def pay(order, amount, **data):
    return payment_create(order_id=order.pk, data={"amount": Decimal(amount), **data})


@pytest.fixture
def month():
    make_requisites()
    today = timezone.localdate()
    first = today.replace(day=1)
    client = make_client("Кузнецова", "Ольга", middle_name="Игоревна")
    supplier = make_supplier("Пегас")
    supplier.legal_name = "ООО «Пегас Туристик»"
    supplier.save()
    order = make_order("500000.00", client=client, supplier=supplier)
    # Before the period: 40 000 in from the client, 15 000 out to the supplier → opening balance 25 000.
    earlier = first - timedelta(days=3)
    pay(order, "40000.00", date=earlier, bank_doc_number="5", bank_doc_date=earlier, **PAYER)
    supplier_payment_create(order_id=order.pk, data={
        "supplier": supplier, "amount": Decimal("15000.00"), "date": earlier, "bank_doc_number": "301",
        "bank_doc_date": earlier})
    payments = [
        pay(order, "100000.00", date=first, bank_doc_number="112", bank_doc_date=first, **PAYER),
        pay(order, "2500.50", date=today, method="bank_transfer", payer_account="40817810300000077777",
            payer_bik="044525225", payer_inn="770708389324", comment="строка1\r\nКонецФайла",
            bank_doc_number="7", bank_doc_date=today),
        pay(order, "1000.00", date=today, type="refund", bank_doc_number="313", bank_doc_date=today, **PAYER),
        pay(order, "700.00", date=today, method="cash"),
        pay(order, "300.00", date=today, method="card"),
    ]
    to_supplier = supplier_payment_create(order_id=order.pk, data={
        "supplier": supplier, "amount": Decimal("80000.00"), "date": today, "bank_doc_number": "314",
        "bank_doc_date": today, "counterparty_inn": "7707083893", "counterparty_kpp": "773601001",
        "counterparty_account": "40702810800000054321", "counterparty_bik": "044525225",
        "counterparty_corr_account": "30101810400000000225", "counterparty_bank_name": "ПАО Сбербанк"})
    from_supplier = supplier_payment_create(order_id=order.pk, data={
        "supplier": supplier, "type": "refund", "amount": Decimal("500.00"), "date": today,
        "bank_doc_number": "9041", "bank_doc_date": today - timedelta(days=1) if today > first else today})
    return {"from": first, "to": today, "order": order, "payments": payments, "supplier": supplier,
            "supplier_payments": [to_supplier, from_supplier]}


def test_1c_file_format_and_round_trip(accountant_api, month, tmp_path, django_assert_max_num_queries):
    url = f"/api/v1/exports/1c/payments/?from={month['from']}&to={month['to']}"
    accountant_api.get(url)  # permissions and the export audit entry's content type cached from here on
    # requisites, opening balance, two row queries, the audit entry; taking and giving back a heavy slot;
    # the bounded count deciding on a background job (apps.jobs.exports)
    with django_assert_max_num_queries(9):
        response = accountant_api.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=windows-1251"
    raw = b"".join(response.streaming_content)  # streamed in constant memory
    text = raw.decode("cp1251")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")
    assert lines[:3] == ["1CClientBankExchange", "ВерсияФормата=1.03", "Кодировка=Windows"]
    assert lines[-2] == "КонецФайла"
    for key in ("Отправитель=", "Получатель=", "ДатаСоздания=", "ВремяСоздания=", "ДатаНачала=", "ДатаКонца=",
                f"РасчСчет={REQUISITES['account']}"):
        assert any(line.startswith(key) for line in lines[:12]), key
    assert "СекцияРасчСчет" in lines and "КонецРасчСчет" in lines
    assert text.count("СекцияДокумент=Платежное поручение") == 5  # bank transfers only, both sides
    assert text.count("КонецФайла") == 1  # a comment cannot inject lines

    path = tmp_path / "export.txt"
    path.write_bytes(raw)
    statement = Statement.from_file(str(path))  # the independent parser (client-bank-exchange-1c)
    assert statement.header.format_version == "1.03" and statement.header.encoding == "Windows"
    assert statement.header.filter_date_since == month["from"] and statement.header.filter_date_till == month["to"]
    by_number = {doc.number: doc for doc in statement.documents}
    bank = [p for p in month["payments"] if p.method == "bank_transfer"]
    assert sorted(by_number) == sorted([p.bank_doc_number for p in bank]
                                       + [p.bank_doc_number for p in month["supplier_payments"]])
    for payment in bank:
        doc = by_number[payment.bank_doc_number]  # Номер: the bank document's, not our id
        assert doc.document_type == "Платежное поручение"
        assert doc.date == payment.bank_doc_date and doc.amount == payment.amount
        assert month["order"].number in doc.payment.purpose
        incoming = payment.type == "payment"
        agency, other = (doc.receiver, doc.payer) if incoming else (doc.payer, doc.receiver)
        assert agency.inn == REQUISITES["inn"] and agency.account == REQUISITES["account"]
        assert agency.bank_bic == REQUISITES["bik"] and agency.bank_corr_account == REQUISITES["corr_account"]
        assert other.inn == payment.payer_inn and other.account == payment.payer_account
        if payment.payer_kind == "other":
            assert other.name == PAYER["payer_name"]
        else:
            assert other.name == "Кузнецова Ольга Игоревна"
    to_supplier, from_supplier = month["supplier_payments"]
    out = by_number["314"]  # our payment to the supplier: an outgoing document, the agency pays
    assert out.amount == Decimal("80000.00") and out.payer.inn == REQUISITES["inn"]
    assert out.receiver.inn == "7707083893" and "ПолучательКПП=773601001" in lines
    assert out.receiver.account == "40702810800000054321" and out.receiver.bank_bic == "044525225"
    assert out.receiver.name == "ООО «Пегас Туристик»"
    assert out.payer.date_charged == month["to"] and not out.receiver.date_received
    back = by_number["9041"]  # the supplier's refund: incoming, dated by its payment order
    assert back.receiver.inn == REQUISITES["inn"] and back.date == from_supplier.bank_doc_date
    assert back.receiver.date_received == month["to"].strftime("%d.%m.%Y") and not back.payer.date_charged
    assert statement.balance.initial_balance == Decimal("25000.00")  # 40 000 in − 15 000 out before the period
    assert statement.balance.total_income == Decimal("103000.50")  # 100 000 + 2 500.50 + 500
    assert statement.balance.total_expense == Decimal("81000.00")  # 1 000 + 80 000
    assert statement.balance.final_balance == Decimal("47000.50")
    assert "Сумма=100000.00" in lines


def test_1c_file_refuses_bank_transfers_without_their_payment_order(accountant_api, month):
    pay(month["order"], "10.00", date=month["to"])  # a bank transfer entered before the statement came
    response = accountant_api.get(f"/api/v1/exports/1c/payments/?from={month['from']}&to={month['to']}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "bank_document_missing" and body["count"] == 1
    assert month["order"].number in body["detail"] and "10.00" in body["detail"]


def test_other_payments_csv(accountant_api, month):
    response = accountant_api.get(f"/api/v1/exports/payments/other/?from={month['from']}&to={month['to']}")
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content), delimiter=";"))
    assert rows[0][:3] == ["Номер", "Дата", "Время"]
    assert sorted(row[4] for row in rows[1:]) == ["Банковская карта", "Наличные"]
    assert {row[5] for row in rows[1:]} == {"700,00", "300,00"}


@pytest.mark.parametrize("query", ["", "from=2026-01-01", "from=2026-02-01&to=2026-01-01", "from=x&to=y",
                                   "from=2024-01-01&to=2026-01-01"])
def test_export_bad_period(accountant_api, query):
    response = accountant_api.get(f"/api/v1/exports/1c/payments/?{query}")
    assert response.status_code == 400 and response.json()["code"] == "validation_error"


def test_export_without_requisites_is_400(accountant_api):
    today = timezone.localdate()
    response = accountant_api.get(f"/api/v1/exports/1c/payments/?from={today - timedelta(days=1)}&to={today}")
    assert response.status_code == 400 and response.json()["code"] == "requisites_missing"


def test_empty_period_still_parses(accountant_api, tmp_path):
    make_requisites()
    response = accountant_api.get("/api/v1/exports/1c/payments/?from=2026-01-01&to=2026-01-31")
    text = b"".join(response.streaming_content).decode("cp1251")
    assert "СекцияДокумент" not in text and text.endswith("КонецФайла\r\n")


def test_the_1c_file_is_written_as_it_is_read(month, tmp_path):
    """A spool smaller than the file spills to disk: the chunks are the very bytes of the in-memory file."""
    from django.utils import timezone

    from apps.finance.onec import build_statement, period_documents, write_statement
    from apps.finance.selectors import agency_requisites

    requisites, now = agency_requisites(), timezone.now()
    args = {"requisites": requisites, "date_from": month["from"], "date_to": month["to"], "created_at": now}

    def documents():
        from apps.finance.onec import MissingBankDocuments

        return period_documents(month["from"], month["to"], requisites, MissingBankDocuments())

    chunks = list(write_statement(documents=documents(), spool_bytes=64, **args))
    assert len(chunks) >= 2 and chunks[0].startswith("1CClientBankExchange".encode("cp1251"))
    assert b"".join(chunks) == build_statement(documents=documents(), **args)
