"""Jobs of the accounts app: old sign-in records leave the database (docs/development.md «Jobs»)."""

from __future__ import annotations

import logging

from procrastinate.contrib.django import app

from apps.accounts.services import sessions_purge
from apps.jobs.schedules import periodic

logger = logging.getLogger("travelcrm.accounts")


@periodic("sessions_purge")
@app.task(name="accounts.sessions_purge", queue="default", queueing_lock="accounts.sessions_purge")
def sessions_purge_daily(timestamp: int) -> dict:
    """Token families past JWT_REFRESH_MAX_DAYS and expired refresh-token records, once a day."""
    result = sessions_purge()
    logger.info("old sessions purged", extra=result)
    return result
