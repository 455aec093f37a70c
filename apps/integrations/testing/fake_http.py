"""A tiny threaded HTTP server base for the fakes (start/stop from tests, bench and dev)."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: with Nagle on, a keep-alive client waited ~40 ms for
    # the body (delayed ACK) on every call. Real Bot API / Graph servers answer at once.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 — the base class's name
        pass

    def send_body(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""


class _Server(ThreadingHTTPServer):
    # socketserver's listen backlog is 5: a worker sending 16 replies at once would see connections
    # refused or reset by the fake, which a real API behind its load balancer does not do.
    request_queue_size = 128


class FakeServer:
    """Owns a ThreadingHTTPServer on 127.0.0.1 running in a daemon thread."""

    handler_class: type[QuietHandler] = QuietHandler

    def __init__(self, port: int = 0):
        handler = type("BoundHandler", (self.handler_class,), {"fake": self})
        self.httpd = _Server(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
