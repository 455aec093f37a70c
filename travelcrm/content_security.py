"""django-csp's middleware, run only for the pages that carry a Content-Security-Policy.

There is no site-wide policy (the admin and the API answer with X-Frame-Options: DENY); only the
public pages under CSP_PAGE_PREFIXES (the web form) set one. Every other request skips the
middleware: its nonce object and two empty policy builds cost ~3 % of an /api/v1/auth/me/ request.
"""

from csp.middleware import CSPMiddleware
from django.conf import settings


class PublicPagesCSPMiddleware(CSPMiddleware):
    def _applies(self, request) -> bool:
        return request.path_info.startswith(tuple(settings.CSP_PAGE_PREFIXES))

    def process_request(self, request):
        if self._applies(request):
            super().process_request(request)

    def process_response(self, request, response):
        if not self._applies(request):
            return response
        return super().process_response(request, response)
