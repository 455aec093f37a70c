from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.utils import timezone

from apps.core.errors import BusinessError
from apps.finance.models import CurrencyRate, Payment
from apps.finance.services import payment_create, payment_delete, payment_update, rate_set_manual
from apps.finance.tests.factories import make_order
from apps.orders.models import OrderEvent

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def pay(order, amount="1000.00", **data):
    return payment_create(order_id=order.pk, data={"amount": Decimal(amount), **data})


def test_payment_and_refund_keep_the_balance(accountant):
    order = make_order("100000.00")
    payment_create(order_id=order.pk, data={"amount": Decimal("60000.00")}, actor=accountant)
    order.refresh_from_db()
    assert (order.paid_amount, order.refunded_amount, order.balance_due) == (Decimal("60000"), 0, Decimal("40000"))
    refund = payment_create(order_id=order.pk, data={"amount": Decimal("10000.00"), "type": "refund"})
    order.refresh_from_db()
    assert (order.paid_amount, order.refunded_amount, order.balance_due) == (60000, 10000, 50000)
    assert refund.rate == 1 and refund.amount_in_order_currency == Decimal("10000.00")
    kinds = list(OrderEvent.objects.filter(order=order).values_list("kind", flat=True))
    assert "payment" in kinds and "refund" in kinds


def test_refund_on_an_unpaid_order_is_refused():
    order = make_order("5000.00")
    with pytest.raises(BusinessError) as error:
        pay(order, "100.00", type="refund")
    assert error.value.code == "refund_exceeds_paid"
    assert Payment.objects.count() == 0


def test_refund_above_paid_is_refused_and_nothing_changes():
    order = make_order("5000.00")
    pay(order, "3000.00")
    with pytest.raises(BusinessError) as error:
        pay(order, "3000.01", type="refund")
    assert "Возврат больше оплаченного" in error.value.detail
    order.refresh_from_db()
    assert order.refunded_amount == 0 and order.balance_due == Decimal("2000.00")


def test_overpayment_accepted_with_a_warning():
    order = make_order("5000.00")
    pay(order, "6000.00")
    order.refresh_from_db()
    assert order.balance_due == Decimal("-1000.00")
    assert [w["code"] for w in order.warnings if w["code"] == "overpaid"] == ["overpaid"]
    pay(order, "1000.00", type="refund")
    order.refresh_from_db()
    assert not [w for w in order.warnings if w["code"] == "overpaid"]


@pytest.mark.parametrize(
    "data, code",
    [
        ({"amount": Decimal("-5")}, "invalid_amount"),
        ({"amount": Decimal("0")}, "invalid_amount"),
        ({"amount": Decimal("1.001")}, "invalid_amount"),
        ({"amount": Decimal("5"), "currency": "XYZ"}, "unknown_currency"),
        ({"amount": Decimal("5"), "date": date.today() + timedelta(days=2)}, "date_in_future"),
        ({"amount": Decimal("5"), "currency": "USD"}, "rate_missing"),
        ({"amount": Decimal("5"), "currency": "USD", "rate": Decimal("-90")}, "invalid_rate"),
        ({"amount": Decimal("5"), "rate": Decimal("2")}, "invalid_rate"),
        ({"amount": Decimal("5"), "type": "gift"}, "invalid_type"),
    ],
)
def test_bad_payments_are_refused(data, code):
    order = make_order("5000.00")
    with pytest.raises(BusinessError) as error:
        payment_create(order_id=order.pk, data=data)
    assert error.value.code == code
    assert Payment.objects.count() == 0


def test_rate_fixed_from_the_stored_bank_rate_and_cross_through_rub():
    day = TODAY() - timedelta(days=3)
    CurrencyRate.objects.create(date=day, currency="USD", rate=Decimal("90"), source="cbr")
    CurrencyRate.objects.create(date=day, currency="EUR", rate=Decimal("100"), source="cbr")
    rub_order = make_order("100000.00")
    payment = pay(rub_order, "100.00", currency="usd", date=day)
    assert (payment.rate, payment.rate_is_manual, payment.amount_in_order_currency) == (90, False, Decimal("9000.00"))


def test_cross_rate_payment_in_usd_for_a_eur_order():
    day = TODAY() - timedelta(days=1)
    for code, rate in (("USD", "90"), ("EUR", "100")):
        CurrencyRate.objects.create(date=day, currency=code, rate=Decimal(rate), source="cbr")
        CurrencyRate.objects.create(date=TODAY(), currency=code, rate=Decimal(rate), source="cbr")
    order = make_order("1000.00", currency="EUR")
    payment = pay(order, "100.00", currency="USD", date=day)
    assert payment.rate == Decimal("0.9") and payment.amount_in_order_currency == Decimal("90.00")
    order.refresh_from_db()
    assert order.balance_due == Decimal("910.00")


def test_manual_rate_is_flagged_and_editing_other_fields_keeps_the_rate():
    day = TODAY() - timedelta(days=1)
    order = make_order("100000.00")
    payment = pay(order, "100.00", currency="USD", rate=Decimal("95.5"), date=day)
    assert payment.rate_is_manual and payment.amount_in_order_currency == Decimal("9550.00")
    CurrencyRate.objects.create(date=day, currency="USD", rate=Decimal("80"), source="cbr")
    changed = payment_update(payment_id=payment.pk, data={"comment": "поправка", "method": "card",
                                                          "date": day - timedelta(days=1), "time": time(12, 30)})
    assert changed.rate == Decimal("95.5") and changed.amount_in_order_currency == Decimal("9550.00")
    changed = payment_update(payment_id=payment.pk, data={"amount": Decimal("200.00")})
    assert changed.rate == Decimal("95.5") and changed.amount_in_order_currency == Decimal("19100.00")
    order.refresh_from_db()
    assert order.paid_amount == Decimal("19100.00")


def test_later_rate_changes_do_not_touch_a_recorded_payment(fake_cbr):
    call_command("fetch_rates", "--date", "2026-11-20")
    order = make_order("100000.00")
    payment = pay(order, "10.00", currency="USD", date=date(2026, 11, 20))
    fake_cbr.shift = "5000"
    call_command("fetch_rates", "--date", "2026-11-20")
    rate_set_manual(currency="USD", on_date=date(2026, 11, 20), rate=Decimal("1"), confirmed=True)
    payment.refresh_from_db()
    assert payment.rate == Decimal("92.5") and payment.amount_in_order_currency == Decimal("925.00")


def test_order_type_and_currency_cannot_change():
    order = make_order("1000.00")
    payment = pay(order, "10.00")
    with pytest.raises(BusinessError) as error:
        payment_update(payment_id=payment.pk, data={"currency": "USD"})
    assert error.value.code == "immutable_field"
    with pytest.raises(BusinessError):
        payment_update(payment_id=payment.pk, data={"type": "refund"})


def test_delete_keeps_an_audit_trail_and_recomputes(supervisor):
    order = make_order("1000.00")
    payment = pay(order, "400.00")
    payment_delete(payment_id=payment.pk, actor=supervisor)
    order.refresh_from_db()
    assert order.paid_amount == 0 and order.balance_due == Decimal("1000.00")
    entry = LogEntry.objects.get_for_model(Payment).filter(object_pk=str(payment.pk), action=LogEntry.Action.DELETE)
    assert entry.exists()
    assert OrderEvent.objects.filter(order=order, kind="payment_deleted").exists()


def test_deleting_a_payment_that_refunds_depend_on_is_refused():
    order = make_order("1000.00")
    payment = pay(order, "400.00")
    pay(order, "300.00", type="refund")
    with pytest.raises(BusinessError) as error:
        payment_delete(payment_id=payment.pk)
    assert "Сначала удалите возврат" in error.value.detail
    assert Payment.objects.filter(pk=payment.pk).exists()


def test_payment_on_a_cancelled_order_is_refused_refund_allowed():
    from apps.orders.services import order_transition

    order = make_order("1000.00")
    pay(order, "400.00")
    order_transition(order=order, action="cancel")
    with pytest.raises(BusinessError):
        pay(order, "1.00")
    pay(order, "400.00", type="refund")


def test_client_merge_moves_the_payer_of_payments():
    from apps.clients.services import client_merge
    from apps.finance.tests.factories import make_client

    survivor, duplicate = make_client("Лебедева", "Нина"), make_client("Лебедева", "Нина")
    order = make_order("1000.00", client=duplicate)
    payment = pay(order, "100.00")
    assert payment.payer_client_id == duplicate.pk
    client_merge(target=survivor, other=duplicate)
    payment.refresh_from_db()
    assert payment.payer_client_id == survivor.pk
