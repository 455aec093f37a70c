"""Jobs of the finance app: the Central Bank's rates, daily and on demand (docs/development.md «Jobs»)."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from procrastinate.contrib.django import app
from procrastinate.exceptions import AlreadyEnqueued

from apps.finance.cbr import RatesFeedError
from apps.finance.services import rates_fetch
from apps.jobs.retry import Backoff
from apps.jobs.schedules import periodic

logger = logging.getLogger("travelcrm.finance.rates")

# The bank publishes at ~15:30 Moscow time; a failed fetch comes back for about two hours.
RATES_RETRY = Backoff(max_attempts=8, base=60, cap=1800)


@app.task(name="finance.fetch_rates", queue="default", retry=RATES_RETRY, queueing_lock="finance.fetch_rates")
def fetch_rates(*, dates: list[str] | None = None) -> dict:
    """Store the bank's rates for the dates (ISO strings; default today and tomorrow, Moscow time —
    tomorrow's are published the afternoon before). A failed fetch stores nothing and is retried."""
    today = timezone.localdate()
    days = [date.fromisoformat(d) for d in dates] if dates else [today, today + timedelta(days=1)]
    try:
        result = rates_fetch(dates=days)
    except RatesFeedError as error:
        logger.warning("rates fetch failed, will retry", extra={"error": str(error)[:200]})
        raise
    return {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}


@periodic("cbr_rates")
@app.task(name="finance.fetch_rates_daily", queue="default", queueing_lock="finance.fetch_rates_daily")
def fetch_rates_daily(timestamp: int) -> None:
    fetch_rates_enqueue()


def fetch_rates_enqueue(dates: list[date] | None = None) -> bool:
    """Enqueue one fetch (the admin button, the schedule). False when one is already waiting."""
    try:
        with transaction.atomic():  # a refused duplicate must not break the caller's transaction
            fetch_rates.defer(dates=[d.isoformat() for d in dates] if dates else None)
    except AlreadyEnqueued:
        return False
    return True
