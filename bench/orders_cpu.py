"""Bench helper (run by bench/orders_list.py in the bench environment): CPU time per request.

On a shared 2-core machine wall-clock figures move with the neighbours' load; the CPU time this
process spends per request (Django test client, same middleware, same database) does not, and
shows the cost of each implementation. Prints one JSON object.
"""

import json
import statistics
import sys
import time

import django

django.setup()

from django.test import Client  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from apps.accounts.models import User  # noqa: E402

PATHS = {
    "app": "/api/v1/orders/?page_size=50",
    "naive": "/bench/naive/orders/?page_size=50",
    "floor": "/bench/floor/orders/?page_size=50",
}


def main(email: str, repeat: int) -> None:
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
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
