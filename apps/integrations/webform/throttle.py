"""Per-IP rate limit of the public form (HTML and JSON).

Counts live in Django's default cache. The default LocMemCache is per process, so with N gunicorn
workers the effective limit is up to N times the rate; a shared cache (Redis, planned) makes it exact.

The client's IP is REMOTE_ADDR unless WEBFORM_TRUSTED_PROXIES (the number of reverse proxies in
front of the app) says which X-Forwarded-For entry to believe: a header the client can write
must never pick its own rate-limit bucket.
"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


def client_ip(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = int(getattr(settings, "WEBFORM_TRUSTED_PROXIES", 0) or 0)
    if proxies > 0:
        chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(chain) >= proxies:
            return chain[-proxies]
    return remote


class WebFormThrottle(SimpleRateThrottle):
    scope = "public_leads"

    def get_rate(self):
        return getattr(settings, "WEBFORM_RATE_LIMIT", "10/hour")

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "unknown"}

    def allow_request(self, request, view):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)
