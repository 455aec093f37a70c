"""The statement of apps/finance/queries.py gives what its ORM equivalent gives, on the same data."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Case, F, Sum, When

from apps.finance import queries
from apps.finance.models import Payment, SupplierPayment
from apps.finance.tests.factories import make_order
from apps.finance.tests.test_exports import month  # noqa: F401 — the 1C export's month of payments
from apps.finance.tests.test_reports import book  # noqa: F401 — two clients, three orders

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


def test_clients_totals_are_the_orms_count_distinct(book):  # noqa: F811
    """The clients report's totals summed over its groups equal the direct per-currency aggregate
    (COUNT(DISTINCT client) and the sums over the orders) — with and without a filter."""
    from django.db.models import Count
    from django.db.models.functions import Coalesce

    from apps.core.money import ZERO
    from apps.finance import reports

    make_order("700.00", client=book["petrov"], operator=book["operator"], currency="EUR")  # confirmed
    for filters in (reports.ReportFilters(), reports.ReportFilters(operator=book["operator"].pk),
                    reports.ReportFilters(currency="USD")):
        expected = list(
            reports._clients_base(filters).values("currency").annotate(
                rows=Count("client_id", distinct=True), turnover=Sum("total_amount"),
                paid=Sum(F("paid_amount") - F("refunded_amount"), output_field=reports.MONEY),
                debt=Coalesce(Sum("balance_due", filter=reports.DEBT_Q), ZERO, output_field=reports.MONEY),
            ).order_by("currency")
        )
        assert reports.clients_totals(filters) == expected
    assert [row["currency"] for row in reports.clients_totals(reports.ReportFilters())] == ["EUR", "RUB"]
