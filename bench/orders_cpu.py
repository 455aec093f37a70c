"""Bench helper (run by bench/orders_list.py in the bench environment): CPU time per request.

On a shared 2-core machine wall-clock figures move with the neighbours' load; the CPU time this
process spends per request (Django test client, same middleware, same database) does not, and
shows the cost of each implementation. With an order id (the one with 30 services), it measures
adding a service to it too (each followed by an unmeasured DELETE), and counts the SQL statements
of one add. Prints one JSON object.
"""

import argparse
import json
import statistics
import time

import django


def _arguments() -> argparse.Namespace:
    from benchdb import add_scale_argument  # bench/ is the script's folder

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("email", help="the bench user")
    parser.add_argument("repeat", type=int)
    parser.add_argument("order_id", type=int, nargs="?", help="the order to add services to")
    add_scale_argument(parser, fixed_because=(
        "a helper of bench/orders_list.py, run in the database that orders_list.py --scale N seeded"))
    return parser.parse_args()


ARGS = _arguments() if __name__ == "__main__" else None  # before Django starts: --help needs no settings
django.setup()

from django.core.signals import request_started  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from apps.accounts.models import User  # noqa: E402

PATHS = {
    "app": "/api/v1/orders/?page_size=50",
    "naive": "/bench/naive/orders/?page_size=50",
    "fair": "/bench/fair/orders/?page_size=50",
    "floor": "/bench/floor/orders/?page_size=50",
}


def add_service(client: Client, order_id: int, repeat: int) -> dict:
    from orders_list import _local_service

    url = f"/api/v1/orders/{order_id}/services/"
    travellers = [t["id"] for t in client.get(f"/api/v1/orders/{order_id}/").json()["travellers"]]

    def add(index: int) -> int:
        response = client.post(url, _local_service(5000 + index, travellers), content_type="application/json")
        assert response.status_code == 201, response.content
        return response.json()["id"]

    cpu, wall = [], []
    for index in range(repeat + 5):
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        service_id = add(index)
        if index >= 5:  # the first ones warm up
            cpu.append((time.process_time() - started_cpu) * 1000)
            wall.append((time.perf_counter() - started_wall) * 1000)
        assert client.delete(f"{url}{service_id}/").status_code == 204
    request_started.disconnect(reset_queries)  # count the statements of the whole request
    with CaptureQueriesContext(connection) as queries:
        service_id = add(0)
    statements = len(queries.captured_queries)
    client.delete(f"{url}{service_id}/")
    return {
        "cpu_ms": round(statistics.median(cpu), 1),
        "wall_ms": round(statistics.median(wall), 1),
        "statements": statements,
    }


def main(email: str, repeat: int, order_id: int | None = None) -> None:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(User.objects.get(email=email))}")
    result = {}
    for name, path in PATHS.items():
        count = max(3, repeat // 10) if name == "naive" else repeat
        for _ in range(3):
            assert client.get(path).status_code == 200
        cpu, wall = [], []
        for _ in range(count):
            started_cpu, started_wall = time.process_time(), time.perf_counter()
            client.get(path)
            cpu.append((time.process_time() - started_cpu) * 1000)
            wall.append((time.perf_counter() - started_wall) * 1000)
        result[name] = {"cpu_ms": round(statistics.median(cpu), 1), "wall_ms": round(statistics.median(wall), 1)}
    if order_id is not None:
        result["add_service"] = add_service(client, order_id, repeat)
    print(json.dumps(result))


if __name__ == "__main__":
    main(ARGS.email, ARGS.repeat, ARGS.order_id)
