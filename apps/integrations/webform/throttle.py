"""Rate limit of the public form (HTML and JSON): ACCEPTED submissions per client address.

Only a submission that was taken (a lead made, or the honeypot's pretended success) counts: a
customer behind a shared address who mistyped a phone can correct it and send again. The rate is
WEBFORM_RATE_LIMIT ("N/second|minute|hour|day"); the address is travelcrm.client_address's.

Counts live in Django's default cache. The default LocMemCache is per process, so with N gunicorn
workers the effective limit is up to N times the rate; a shared cache (Redis, planned) makes it exact.
"""

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from travelcrm.client_address import client_ip

__all__ = ["SubmissionLimit", "client_ip"]


class SubmissionLimit:
    """The accepted submissions of one client address within the rate's window."""

    def __init__(self, request):
        self.key = f"webform-accepted:{client_ip(request) or 'unknown'}"
        self.count, self.window = SimpleRateThrottle.parse_rate(None, settings.WEBFORM_RATE_LIMIT)

    def _history(self, now: float) -> list[float]:
        return [moment for moment in cache.get(self.key, []) if moment > now - self.window]

    def exceeded(self) -> bool:
        return len(self._history(time.time())) >= self.count

    def record(self) -> None:
        now = time.time()
        cache.set(self.key, [*self._history(now), now], self.window)

    @property
    def retry_after(self) -> int:
        history = self._history(time.time())
        return max(1, int(min(history) + self.window - time.time())) if history else 1
