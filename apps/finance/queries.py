"""Hand-written SQL of the finance app (docs/development.md, "Raw SQL"), composed with psycopg.sql.

The 1C export's opening balance: two sums in one statement, so the export keeps its statement
budget (apps/finance/tests/test_exports.py). Tested against its ORM equivalent in
apps/finance/tests/test_queries.py.
"""

from __future__ import annotations

import functools
from datetime import date
from decimal import Decimal

from django.db import connection
from psycopg import sql

from apps.core.rows import render, table_sql
from apps.finance.models import Payment, SupplierPayment


@functools.cache
def _opening_balance_statement() -> str:
    # The ruble account's movements recorded before a date: clients' payments and suppliers' refunds
    # in, clients' refunds and payments to suppliers out (the (method, date) indexes of both tables).
    net = sql.SQL(
        "coalesce((SELECT sum(CASE WHEN type = 'payment' THEN amount ELSE -amount END) FROM {table} "
        "WHERE method = 'bank_transfer' AND currency = 'RUB' AND date < %(day)s), 0)"
    )
    return render(
        sql.SQL("SELECT {clients} - {suppliers}").format(
            clients=net.format(table=table_sql(Payment)), suppliers=net.format(table=table_sql(SupplierPayment))
        )
    )


def bank_rub_net_before(day: date) -> Decimal:
    """Σ clients' ruble bank payments (refunds negative) − Σ the same to suppliers, before `day`."""
    with connection.cursor() as cursor:
        cursor.execute(_opening_balance_statement(), {"day": day})
        return Decimal(cursor.fetchone()[0])
