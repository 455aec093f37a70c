"""The statement of apps/finance/queries.py gives what its ORM equivalent gives, on the same data."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Case, F, Sum, When

from apps.finance import queries
from apps.finance.models import Payment, SupplierPayment
from apps.finance.tests.test_exports import month  # noqa: F401 — the 1C export's month of payments

pytestmark = pytest.mark.django_db


def _orm_net(model, day):
    signed = Case(When(type="payment", then=F("amount")), default=-F("amount"))
    rows = model.objects.filter(method="bank_transfer", currency="RUB", date__lt=day)
    return rows.aggregate(total=Sum(signed))["total"] or Decimal(0)


def test_opening_balance_is_the_orms_two_sums(month):  # noqa: F811
    assert Payment.objects.filter(method="bank_transfer", currency="RUB").exists()
    for day in (month["from"], month["to"], month["to"] + timedelta(days=1)):
        assert queries.bank_rub_net_before(day) == _orm_net(Payment, day) - _orm_net(SupplierPayment, day)
    assert queries.bank_rub_net_before(month["to"] + timedelta(days=1)) != 0
