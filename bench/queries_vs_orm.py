"""Benchmark: each hand-written statement (apps/*/queries.py) against its ORM equivalent, in one run.

    python scripts/devservices.py exec -- .venv/bin/python bench/queries_vs_orm.py [--repeat 400]

Runs in-process against the orders benchmark's database (bench/orders_list.py seeds it: 50 000
orders, 250 000 services; run that first). For every statement the raw function and its ORM
equivalent (the same ones apps/*/tests/test_queries.py compare) alternate call by call, so the
shared machine's load hits both alike; printed: median and p95 microseconds per call (wall, one
process, database included) and ORM − raw. Writes happen inside a transaction that is rolled back.
Decide with the benchmark targets: where the ORM's extra cost still leaves the target met twice
over, the code goes back to the ORM (docs/development.md, "Raw SQL").
"""

import argparse
import functools
import json
import operator
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from benchdb import add_scale_argument, scaled_suffix  # noqa: E402
from orders_list import BENCH_EMAIL, bench_env  # noqa: E402


def _scale_from_argv() -> int:
    """--scale picks the database before Django starts (main parses it again, with --help)."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--scale", type=int, default=1)
    return early.parse_known_args()[0].scale


os.environ.update({**bench_env(scaled_suffix("_orders_bench", _scale_from_argv())),
                   "DJANGO_SETTINGS_MODULE": "travelcrm.settings"})

import django  # noqa: E402

django.setup()

from django.contrib.auth.backends import ModelBackend  # noqa: E402
from django.db import transaction  # noqa: E402
from django.db.models import Prefetch, Q  # noqa: E402

from apps.accounts import queries as accounts_queries  # noqa: E402
from apps.accounts.models import User  # noqa: E402
from apps.clients import queries as clients_queries  # noqa: E402
from apps.clients.models import Client, ClientContact, ClientPassport  # noqa: E402
from apps.integrations import queries as integrations_queries  # noqa: E402
from apps.integrations.models import IntegrationSettings  # noqa: E402
from apps.leads import queries as leads_queries  # noqa: E402
from apps.leads.models import OPEN_STATUSES, Lead, LeadMessage  # noqa: E402
from apps.orders import queries as orders_queries  # noqa: E402
from apps.orders.models import Order, Service  # noqa: E402


class Rollback(Exception):
    pass


def in_rolled_back_transaction(func):
    def run():
        try:
            with transaction.atomic():
                func()
                raise Rollback
        except Rollback:
            pass

    return run


def pairs(user_id: int, order_id: int, page: list[int], client_page: list[int]) -> dict:
    """name -> (raw call, ORM call)."""
    order = Order.objects.get(pk=order_id)
    terms = [("phone_index", ["x" * 64]), ("email_index", ["y" * 64])]
    fields = [*orders_queries.DERIVED_FIELDS, "updated_at"]

    def orm_user():
        user = User.objects.get(pk=user_id)
        ModelBackend().get_all_permissions(user)  # its own and its groups' permissions: two queries

    def orm_rows():
        orders = Order.objects.filter(pk__in=page).select_related("client", "operator")
        list(orders.prefetch_related(Prefetch("travellers", queryset=Client.all_objects.order_by("last_name", "id"))))

    def orm_facts():
        linked = Order.travellers.through.objects.filter(order_id=order_id).values("client_id")
        live = Client.objects.filter(pk__in=linked)
        travellers = list(live.values_list("id", "last_name", "first_name", "middle_name"))
        services = list(Service.objects.filter(order_id=order_id).prefetch_related("travellers"))
        ids = {t[0] for t in travellers} | {c.pk for s in services for c in s.travellers.all()}
        list(ClientPassport.objects.filter(client_id__in=ids, is_active=True, is_archived=False).values_list(
            "client_id", "kind", "expiry_date"))

    def orm_open_lead():
        any_term = functools.reduce(operator.or_, (Q(**{f"{n}__in": v}) for n, v in terms))
        leads = Lead.objects.select_for_update().filter(any_term, status__in=OPEN_STATUSES)
        leads.order_by("-created_at", "-id").first()

    def orm_children():
        live = Q(is_archived=False)
        list(Client.objects.filter(pk__in=client_page).prefetch_related(
            Prefetch("contacts", queryset=ClientContact.objects.filter(live)),
            Prefetch("passports", queryset=ClientPassport.objects.filter(live))))

    return {
        "accounts: user + permissions (every API request)": (
            lambda: accounts_queries.user_with_permission_names(user_id), orm_user),
        "orders: order lock": (
            in_rolled_back_transaction(lambda: orders_queries.order_locked(order_id)),
            in_rolled_back_transaction(lambda: Order.objects.select_for_update().get(pk=order_id))),
        "orders: list page rows (50)": (lambda: orders_queries.order_list_rows(page), orm_rows),
        "orders: facts of an order with 30 services": (lambda: orders_queries.order_facts_json(order_id), orm_facts),
        "orders: derived figures UPDATE": (
            in_rolled_back_transaction(
                lambda: orders_queries.order_save_derived(order, [[], [], [], order_id, order_id])),
            in_rolled_back_transaction(
                lambda: Order.objects.filter(pk=order_id).update(**{n: getattr(order, n) for n in fields}))),
        "leads: message already taken?": (
            lambda: leads_queries.message_id_taken("telegram", "bench-1"),
            lambda: LeadMessage.objects.filter(channel="telegram", external_id="bench-1")
            .values_list("id", flat=True).first()),
        "leads: sender's open lead, locked": (
            in_rolled_back_transaction(lambda: leads_queries.lead_open_locked(terms)),
            in_rolled_back_transaction(orm_open_lead)),
        "integrations: active integration": (
            lambda: integrations_queries.integration_active(1, "telegram"),
            lambda: IntegrationSettings.objects.filter(pk=1, type="telegram", is_active=True).first()),
        "clients: list page children (50)": (
            lambda: list(Client.objects.filter(pk__in=client_page).annotate(
                c=clients_queries.contacts_json(), p=clients_queries.passports_json()).values_list("id", "c", "p")),
            orm_children),
    }


def measure(raw, orm, repeat: int) -> dict:
    for _ in range(20):
        raw(), orm()
    times = {"raw": [], "orm": []}
    for _ in range(repeat):
        for name, func in (("raw", raw), ("orm", orm)):
            started = time.perf_counter()
            func()
            times[name].append((time.perf_counter() - started) * 1e6)
    result = {}
    for name, values in times.items():
        values.sort()
        result[name] = {"p50_us": round(statistics.median(values)), "p95_us": round(values[int(len(values) * 0.95)])}
    result["orm_minus_raw_p50_us"] = result["orm"]["p50_us"] - result["raw"]["p50_us"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=400)
    add_scale_argument(parser, sizes="the orders bench's database at that scale, seeded by "
                                     "bench/orders_list.py --scale N (1 = 50 000 orders, 10 = 500 000)")
    args = parser.parse_args()
    user_id = User.objects.get(email=BENCH_EMAIL).pk
    order_id = (Service.objects.values("order_id").annotate(n=django.db.models.Count("id"))
                .order_by("-n").values_list("order_id", flat=True).first())  # the order with the most services
    page = list(Order.objects.order_by("-id").values_list("id", flat=True)[:50])
    client_page = list(Client.objects.order_by("-id").values_list("id", flat=True)[:50])
    results = {name: measure(raw, orm, args.repeat) for name, (raw, orm) in pairs(user_id, order_id, page,
                                                                                  client_page).items()}
    print(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
