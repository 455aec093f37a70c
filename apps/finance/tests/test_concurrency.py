"""Two refunds at once cannot together exceed what was paid: the services lock the order row."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from apps.core.errors import BusinessError
from apps.finance.models import Payment
from apps.finance.services import payment_create
from apps.finance.tests.factories import make_order


@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_respect_the_paid_amount():
    order = make_order("1000.00")
    payment_create(order_id=order.pk, data={"amount": Decimal("1000.00")})
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def refund():
        try:
            barrier.wait(timeout=10)
            payment_create(order_id=order.pk, data={"amount": Decimal("600.00"), "type": "refund"})
            outcomes.append("ok")
        except BusinessError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=refund) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["ok", "refund_exceeds_paid"]
    order.refresh_from_db()
    assert order.refunded_amount == Decimal("600.00") and order.balance_due == Decimal("600.00")
    assert Payment.objects.filter(type="refund").count() == 1
