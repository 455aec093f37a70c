"""Bench-only URLs: the real API plus the two comparison points of bench/orders_list.py.

(a) /bench/naive/orders/ — the typical implementation: DRF ModelSerializers over the same models,
    nested client/operator/travellers, no select_related / prefetch_related (N+1 queries).
(b) /bench/fair/orders/ — the same serializers with select_related / prefetch_related: the fair DRF baseline.
(c) /bench/floor/orders/ — the floor: the same page of rows by one raw SQL query (+ the count, bounded
    as the API's: exact up to 10 000, else the planner's estimate), dumped with orjson; no DRF, no
    authentication, no permission check.
"""

import json

import orjson
from django.db import connection
from django.http import HttpResponse
from django.urls import include, path
from rest_framework import serializers

from apps.accounts.models import User
from apps.clients.models import Client
from apps.orders.models import Order
from travelcrm.api import BaseReadOnlyViewSet


class NaiveClientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Client
        fields = ["id", "full_name"]


class NaiveUserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "full_name"]


class NaiveOrderSerializer(serializers.ModelSerializer):
    client = NaiveClientSerializer()
    operator = NaiveUserSerializer(allow_null=True)
    travellers = NaiveClientSerializer(many=True)

    class Meta:
        model = Order
        fields = [
            "id", "number", "status", "currency", "total_amount", "commission", "paid_amount", "refunded_amount",
            "balance_due", "deadline", "client", "travellers", "operator", "trip_start", "trip_end", "warnings",
            "created_at", "updated_at",
        ]  # fmt: skip


class NaiveOrderViewSet(BaseReadOnlyViewSet):
    queryset = Order.objects.all()
    serializer_class = NaiveOrderSerializer
    filter_backends = []


class FairOrderViewSet(NaiveOrderViewSet):
    """The same serializers as a careful DRF developer would serve them: joins and one prefetch."""

    queryset = Order.objects.select_related("client", "operator").prefetch_related("travellers")


FLOOR_SQL = """
SELECT o.id, o.number, o.status, o.currency, o.total_amount::text, o.commission::text, o.paid_amount::text,
       o.refunded_amount::text, o.balance_due::text, o.deadline, o.client_id,
       concat_ws(' ', c.last_name, c.first_name, nullif(c.middle_name, '')), o.operator_id, u.full_name,
       o.trip_start, o.trip_end, o.warnings::text, o.created_at, o.updated_at,
       (SELECT coalesce(json_agg(json_build_object('id', t.id, 'full_name',
               concat_ws(' ', t.last_name, t.first_name, nullif(t.middle_name, '')))
               ORDER BY t.last_name, t.id), '[]')::text
          FROM orders_order_travellers ot JOIN clients_client t ON t.id = ot.client_id WHERE ot.order_id = o.id)
  FROM orders_order o
  JOIN clients_client c ON c.id = o.client_id
  LEFT JOIN accounts_user u ON u.id = o.operator_id
 ORDER BY o.created_at DESC, o.id DESC
 LIMIT %s
"""


def floor_orders(request):
    size = min(int(request.GET.get("page_size", 50)), 200)
    with connection.cursor() as cursor:
        # Counted like the API counts: exactly up to 10 000 rows, else the planner's estimate (an exact
        # count(*) of 500 000 orders would make the floor slower than the app it is the floor of).
        cursor.execute("SELECT count(*) FROM (SELECT 1 FROM orders_order LIMIT 10001) AS bounded")
        count = cursor.fetchone()[0]
        if count > 10_000:
            cursor.execute("EXPLAIN (FORMAT JSON) SELECT id FROM orders_order")
            plan = cursor.fetchone()[0]
            count = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"]
        cursor.execute(FLOOR_SQL, [size])
        rows = cursor.fetchall()
    results = [
        {
            "id": r[0], "number": r[1], "status": r[2], "currency": r[3], "total_amount": r[4], "commission": r[5],
            "paid_amount": r[6], "refunded_amount": r[7], "balance_due": r[8], "deadline": r[9],
            "client": {"id": r[10], "full_name": r[11]},
            "operator": {"id": r[12], "full_name": r[13]} if r[12] else None,
            "trip_start": r[14], "trip_end": r[15], "warnings": orjson.Fragment(r[16]),
            "created_at": r[17], "updated_at": r[18], "travellers": orjson.Fragment(r[19]),
        }
        for r in rows
    ]  # fmt: skip
    body = {"count": count, "next": None, "previous": None, "results": results}
    return HttpResponse(orjson.dumps(body), content_type="application/json")


urlpatterns = [
    path("bench/naive/orders/", NaiveOrderViewSet.as_view({"get": "list"})),
    path("bench/fair/orders/", FairOrderViewSet.as_view({"get": "list"})),
    path("bench/floor/orders/", floor_orders),
    path("", include("travelcrm.urls")),
]
