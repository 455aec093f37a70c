"""apps/core/http.py: one retry policy for idempotent outside GETs, against a local HTTP server."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from apps.core import http


class _Server:
    """Answers each GET with the next status of `statuses` (then 200), counting the requests."""

    def __init__(self, statuses: list[int]):
        self.statuses = list(statuses)
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                server.requests += 1
                status = server.statuses.pop(0) if server.statuses else 200
                body = f"answer {status}".encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/x"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(autouse=True)
def _no_pause(settings):
    settings.HTTP_RETRY_BACKOFF_SECONDS = 0
    settings.HTTP_RETRIES = 3


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_transient_answer_is_retried(status):
    with _Server([status, status]) as server:
        response = http.get(server.url)
    assert (response.status_code, response.text, server.requests) == (200, "answer 200", 3)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_client_error_is_returned_at_once(status):
    with _Server([status]) as server:
        assert http.get(server.url).status_code == status
    assert server.requests == 1


def test_last_5xx_is_returned_after_the_last_attempt():
    with _Server([503] * 10) as server:
        assert http.get(server.url, attempts=4).status_code == 503
    assert server.requests == 4


def test_network_error_is_retried_then_raised():
    with _Server([]) as server:
        url = server.url
    with pytest.raises(httpx.TransportError):  # the server is closed: connection refused each time
        http.get(url, attempts=2)


def test_pause_doubles(settings, monkeypatch):
    pauses: list[float] = []
    monkeypatch.setattr("tenacity.nap.time.sleep", pauses.append)
    with _Server([500, 500, 500]) as server:
        assert http.get(server.url, attempts=4, backoff=0.25).status_code == 200
    assert pauses == [0.25, 0.5, 1.0]


def test_client_uses_the_timeout_from_settings(settings):
    settings.HTTP_TIMEOUT_SECONDS = 7
    with http.client() as client:
        assert client.timeout.read == 7
