"""Bench-only settings: the project's settings plus the comparison endpoints of bench/orders_bench_urls.py."""

from travelcrm.settings import *  # noqa: F403

ROOT_URLCONF = "bench.orders_bench_urls"
