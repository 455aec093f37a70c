"""Per-IP rate limit of the public form (HTML and JSON).

Counts live in Django's default cache. The default LocMemCache is per process, so with N gunicorn
workers the effective limit is up to N times the rate; a shared cache (Redis, planned) makes it exact.
"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class WebFormThrottle(SimpleRateThrottle):
    scope = "public_leads"

    def get_rate(self):
        return getattr(settings, "WEBFORM_RATE_LIMIT", "10/hour")

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request, view):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)
