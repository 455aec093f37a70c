"""The finance admin saves through the services; exports are Excel-ready; PD masked per permission."""

from decimal import Decimal

import pytest
from django.test import Client as BrowserClient
from django.utils import timezone

from apps.clients.exports import ClientResource
from apps.clients.models import ClientContact
from apps.core.exports import ExcelCsv
from apps.finance.exports import PaymentResource
from apps.finance.models import AgencyRequisites, Payment
from apps.finance.services import payment_create
from apps.finance.tests.factories import REQUISITES, make_client, make_order, make_requisites
from apps.orders.exports import OrderResource
from apps.orders.models import OrderEvent

pytestmark = pytest.mark.django_db


def browser(user) -> BrowserClient:
    client = BrowserClient()
    client.force_login(user)
    return client


def form(order, **extra) -> dict:
    data = {"order": order.pk, "type": "payment", "method": "bank_transfer", "amount": "1500.00", "currency": "RUB",
            "rate": "", "date": str(timezone.localdate()), "time": "", "payer_kind": "client", "payer_client": "",
            "payer_name": "", "payer_inn": "", "payer_account": "", "payer_bank_name": "", "payer_bik": "",
            "payer_corr_account": "", "comment": ""}
    data.update(extra)
    return data


@pytest.fixture
def accountant_staff(make_user):
    return make_user("accountant", is_staff=True)


def test_accountant_adds_a_payment_through_the_service(accountant_staff):
    order = make_order("10000.00")
    response = browser(accountant_staff).post("/admin/finance/payment/add/", form(order))
    assert response.status_code == 302, response.content.decode()[:3000]
    payment = Payment.objects.get()
    assert payment.created_by == accountant_staff and payment.payer_client_id == order.client_id
    order.refresh_from_db()
    assert order.paid_amount == Decimal("1500.00")
    assert OrderEvent.objects.filter(order=order, kind="payment").count() == 1


def test_admin_shows_service_refusals_on_the_form(accountant_staff):
    order = make_order("10000.00")
    response = browser(accountant_staff).post("/admin/finance/payment/add/", form(order, type="refund"))
    assert response.status_code == 200
    assert "Возврат больше оплаченного" in response.content.decode()
    response = browser(accountant_staff).post("/admin/finance/payment/add/", form(order, currency="USD"))
    assert "Загрузите курсы ЦБ" in response.content.decode()
    assert not Payment.objects.exists() and not OrderEvent.objects.filter(kind="payment").exists()


def test_only_supervisor_deletes_in_admin(accountant_staff, make_user):
    order = make_order("10000.00")
    payment = payment_create(order_id=order.pk, data={"amount": Decimal("100.00")})
    url = f"/admin/finance/payment/{payment.pk}/delete/"
    assert browser(accountant_staff).post(url, {"post": "yes"}).status_code == 403
    supervisor = make_user("supervisor", is_staff=True)
    assert browser(supervisor).post(url, {"post": "yes"}).status_code == 302
    order.refresh_from_db()
    assert not Payment.objects.exists() and order.paid_amount == 0


def test_requisites_admin_validates_checksums(make_user):
    supervisor = make_user("supervisor", is_staff=True)
    data = {**REQUISITES, "vat_rate": "", "inn": "7701234561"}
    response = browser(supervisor).post("/admin/finance/agencyrequisites/add/", data)
    assert response.status_code == 200 and "контрольное число" in response.content.decode()
    response = browser(supervisor).post("/admin/finance/agencyrequisites/add/", {**data, "inn": REQUISITES["inn"]})
    assert response.status_code == 302 and AgencyRequisites.objects.count() == 1


def test_1c_admin_action(accountant_staff):
    make_requisites()
    order = make_order("10000.00")
    today = timezone.localdate()
    bank = payment_create(order_id=order.pk, data={"amount": Decimal("100.00"), "bank_doc_number": "4410",
                                                   "bank_doc_date": today})
    payment_create(order_id=order.pk, data={"amount": Decimal("50.00"), "method": "cash"})
    web = browser(accountant_staff)
    response = web.post("/admin/finance/payment/", {
        "action": "export_1c", "_selected_action": list(Payment.objects.values_list("id", flat=True)),
    })
    text = response.content.decode("cp1251")
    assert text.startswith("1CClientBankExchange\r\n") and text.count("СекцияДокумент=") == 1
    assert f"Номер={bank.bank_doc_number}\r\n" in text
    payment_create(order_id=order.pk, data={"amount": Decimal("5.00")})  # no payment order yet
    response = web.post("/admin/finance/payment/", {
        "action": "export_1c", "_selected_action": list(Payment.objects.values_list("id", flat=True)),
    }, follow=True)
    assert "номер платёжного поручения" in response.content.decode()


def test_payment_export_is_excel_csv():
    order = make_order("10000.00")
    payment_create(order_id=order.pk, data={"amount": Decimal("1234.50"), "comment": "=HYPERLINK(\"x\")"})
    text = ExcelCsv().export_data(PaymentResource().export(Payment.objects.all()))
    assert text.startswith("\ufeffНомер;Дата;")
    row = text.split("\r\n")[1]
    assert "1234,50" in row and timezone.localdate().strftime("%d.%m.%Y") in row
    assert ';"\'=HYPERLINK' in row  # a formula is shown as text, not run


def test_client_and_order_resources_mask_personal_data():
    client = make_client("Орлова", "Вера", birth_date=timezone.localdate().replace(year=1985))
    ClientContact.objects.create(client=client, kind="phone", value="+79161234567", blind_index="x1")
    make_order("100.00", client=client)
    masked = ExcelCsv().export_data(ClientResource(show_pd=False).export(type(client).objects.all()))
    shown = ExcelCsv().export_data(ClientResource(show_pd=True).export(type(client).objects.all()))
    assert "+79161234567" not in masked and ";+7 *** ***-45-67;" in masked and "**.**.1985" in masked
    assert "+79161234567" in shown
    orders = ExcelCsv().export_data(OrderResource().export(order.__class__.objects.all()
                                                           if (order := client.orders.first()) else None))
    assert "Орлова Вера" in orders and "100,00" in orders


def test_demo_is_valid_and_idempotent():
    import io

    from apps.finance import demo
    from apps.finance.models import CurrencyRate

    order = make_order("10000.00")
    type(order).objects.filter(pk=order.pk).update(notes="Демо: проверка")
    demo.load_demo(io.StringIO())
    counts = (AgencyRequisites.objects.count(), CurrencyRate.objects.count(), Payment.objects.count())
    demo.load_demo(io.StringIO())
    assert counts == (AgencyRequisites.objects.count(), CurrencyRate.objects.count(), Payment.objects.count())
    assert counts[0] == 1 and counts[2] == 2
    AgencyRequisites.objects.get().full_clean()
    order.refresh_from_db()
    assert order.paid_amount > Decimal("5000.00")


def test_payment_changelist_offers_both_exports(accountant_staff, django_assert_max_num_queries):
    order = make_order("10000.00")
    for amount in ("1.00", "2.00", "3.00"):
        payment_create(order_id=order.pk, data={"amount": Decimal(amount)})
    admin_browser = browser(accountant_staff)
    admin_browser.get("/admin/finance/payment/")
    with django_assert_max_num_queries(15):  # constant: the list joins order and author once
        response = admin_browser.get("/admin/finance/payment/")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="export_1c"' in page and 'value="export_admin_action"' in page


def test_payment_form_finds_the_order_by_number_or_client_name(accountant_staff):
    order = make_order("1000.00", client=make_client("Земляникина", "Вера"))
    web = browser(accountant_staff)
    page = web.get("/admin/finance/payment/add/").content.decode()
    assert "admin-autocomplete" in page and 'name="order"' in page
    url = "/admin/autocomplete/?app_label=finance&model_name=payment&field_name=order&term="
    by_name = web.get(url + "Земляникина").json()["results"]
    by_number = web.get(url + order.number).json()["results"]
    assert [row["id"] for row in by_name] == [str(order.pk)] == [row["id"] for row in by_number]


def test_supplier_payment_in_admin_and_masked_requisites(accountant_staff, make_user):
    from apps.finance.models import SupplierPayment
    from apps.finance.tests.factories import make_supplier

    supplier = make_supplier("Пегас")
    order = make_order("10000.00", supplier=supplier)
    data = {"order": order.pk, "supplier": "", "service": order.services.get().pk, "type": "payment",
            "method": "bank_transfer", "amount": "9000.00", "currency": "RUB", "rate": "",
            "date": str(timezone.localdate()), "counterparty_name": "", "counterparty_inn": "7707083893",
            "counterparty_kpp": "773601001", "counterparty_account": "40702810800000054321",
            "counterparty_bank_name": "", "counterparty_bik": "", "counterparty_corr_account": "",
            "bank_doc_number": "77", "bank_doc_date": str(timezone.localdate()), "comment": ""}
    web = browser(accountant_staff)
    response = web.post("/admin/finance/supplierpayment/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    payment = SupplierPayment.objects.get()
    assert payment.supplier == supplier and payment.counterparty_inn == "7707083893"
    order.refresh_from_db()
    assert order.supplier_balance_due == Decimal("1000.00")
    # The accountant has no clients.view_personal_data: INN and account masked, read only.
    page = web.get(f"/admin/finance/supplierpayment/{payment.pk}/change/").content.decode()
    assert "7707083893" not in page and "******3893" in page and "40702810800000054321" not in page
    supervisor = make_user("supervisor", is_staff=True)
    shown = browser(supervisor).get(f"/admin/finance/supplierpayment/{payment.pk}/change/").content.decode()
    assert "7707083893" in shown
    # A refusal of the service shows on the form and writes nothing.
    refused = web.post("/admin/finance/supplierpayment/add/", {**data, "type": "refund", "amount": "9000.01"})
    assert refused.status_code == 200 and "Возврат от поставщика больше" in refused.content.decode()
    assert SupplierPayment.objects.count() == 1


def test_payment_form_rate_takes_a_decimal_comma_and_lists_show_money(accountant_staff):
    order = make_order("200000.00")
    web = browser(accountant_staff)
    response = web.post("/admin/finance/payment/add/", form(order, currency="USD", amount="100,00", rate="1 092,50"))
    assert response.status_code == 302, response.content.decode()[:3000]
    payment = Payment.objects.get()
    assert payment.rate == Decimal("1092.50") and payment.rate_is_manual
    assert payment.amount_in_order_currency == Decimal("109250.00")
    listing = web.get("/admin/finance/payment/").content.decode()
    assert "109\u00a0250,00\u00a0₽" in listing and "100,00\u00a0$" in listing and "1\u00a0092,50" in listing
