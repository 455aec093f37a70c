"""One way to call an outside HTTP service: an httpx client with the timeout from settings, and one
retry policy (tenacity) for idempotent requests.

A network error, a timeout or a 5xx / 429 answer is transient: the request is repeated up to
`attempts` times with an exponential pause (backoff, 2·backoff, 4·backoff …, at most 30 s). A 4xx is
the caller's mistake and is returned at once: asking again cannot help. Only GET goes through here —
a POST that creates something must not be repeated blindly.
"""

import logging

import httpx
import tenacity
from django.conf import settings

logger = logging.getLogger("travelcrm.http")

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_PAUSE_SECONDS = 30.0


class _TransientAnswer(Exception):
    def __init__(self, response: httpx.Response):
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def client(**options) -> httpx.Client:
    """An httpx client with the project's timeout; the caller closes it (use it as a context manager)."""
    options.setdefault("timeout", settings.HTTP_TIMEOUT_SECONDS)
    options.setdefault("headers", {"User-Agent": "travelcrm/1.0"})
    return httpx.Client(**options)


def _log_retry(state: tenacity.RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    # The URL may carry a token in its query for some services: only the host is logged.
    logger.warning(
        "outside call failed, retrying",
        extra={"attempt": state.attempt_number, "host": state.kwargs.get("host", ""), "error": str(error)},
    )


def get(
    url: str,
    *,
    headers: dict[str, str] | None = None,
    attempts: int | None = None,
    backoff: float | None = None,
    follow_redirects: bool = False,
) -> httpx.Response:
    """GET with the retry policy; returns the last answer (a 4xx at once, a 5xx after the last try).

    Network errors still failing after the last attempt raise httpx.TransportError (timeouts included).
    `attempts` / `backoff` default to HTTP_RETRIES / HTTP_RETRY_BACKOFF_SECONDS.
    """
    attempts = max(1, settings.HTTP_RETRIES if attempts is None else attempts)
    backoff = max(0.0, settings.HTTP_RETRY_BACKOFF_SECONDS if backoff is None else backoff)
    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts),
        wait=tenacity.wait_exponential(multiplier=backoff, min=0, max=MAX_PAUSE_SECONDS),
        retry=tenacity.retry_if_exception_type((httpx.TransportError, _TransientAnswer)),
        before_sleep=_log_retry,
        reraise=True,
    )
    host = httpx.URL(url).host
    try:
        return retrying(_get_once, url, headers=headers or {}, host=host, follow_redirects=follow_redirects)
    except _TransientAnswer as answer:
        return answer.response


def _get_once(url: str, *, headers: dict[str, str], host: str, follow_redirects: bool) -> httpx.Response:
    with client(follow_redirects=follow_redirects) as http:
        response = http.get(url, headers=headers)
    if response.status_code in TRANSIENT_STATUSES:
        raise _TransientAnswer(response)
    return response
