"""A local stand-in for the Central Bank's XML_daily.asp speaking its real format (Windows-1251)."""

import socket
import threading
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PORTS = range(8145, 8150)  # this engineer's local fake ports

VALUTES = {
    # code: (num code, nominal, name, value for the nominal)
    "USD": ("840", 1, "Доллар США", "92,5000"),
    "EUR": ("978", 1, "Евро", "100,2500"),
    "CNY": ("156", 1, "Китайский юань", "12,7300"),
    "KZT": ("398", 100, "Казахстанских тенге", "18,4000"),
    "TRY": ("949", 10, "Турецких лир", "27,1100"),
    "JPY": ("392", 100, "Японских иен", "61,2345"),
    "XDR": ("960", 1, "СДР (специальные права заимствования)", "121,0000"),
}


def answer_date(asked: date) -> date:
    """The bank answers Sunday and Monday-before-publication asks with Saturday's set rates."""
    if asked.weekday() == 6:  # Sunday → the rates set on Saturday
        return asked - timedelta(days=1)
    return asked


def daily_xml(asked: date, *, shift: str = "0", vunit: bool = True) -> bytes:
    """Real-format answer; `shift` is added to every value's last digits so dates differ."""
    bank_date = answer_date(asked)
    parts = [f'<?xml version="1.0" encoding="windows-1251"?><ValCurs Date="{bank_date:%d.%m.%Y}" '
             'name="Foreign Currency Market">']
    for index, (code, (num, nominal, name, value)) in enumerate(VALUTES.items(), start=1):
        value = _shift(value, shift)
        unit = ""
        if vunit:
            per_unit = format(float(value.replace(",", ".")) / nominal, ".10f").rstrip("0")
            unit = f"<VunitRate>{per_unit.replace('.', ',')}</VunitRate>"
        parts.append(
            f'<Valute ID="R0{index:04d}"><NumCode>{num}</NumCode><CharCode>{code}</CharCode>'
            f"<Nominal>{nominal}</Nominal><Name>{name}</Name><Value>{value}</Value>{unit}</Valute>"
        )
    parts.append("</ValCurs>")
    return "".join(parts).encode("cp1251")


def _shift(value: str, shift: str) -> str:
    whole, frac = value.split(",")
    total = int(whole + frac) + int(shift)
    text = str(total).rjust(len(frac) + 1, "0")
    return f"{text[:-len(frac)]},{text[-len(frac):]}"


class FakeCbr:
    """Serves /scripts/XML_daily.asp. Modes: "ok", "broken" (not XML), "error" (HTTP 500), "empty"."""

    def __init__(self):
        self.mode = "ok"
        self.shift = "0"
        self.vunit = True
        self.requests: list[str] = []
        self.broken_dates: set[date] = set()
        self.fail_next: list[int] = []  # statuses answered (in order) before the mode's answer, e.g. [503]
        self.server = self._bind()
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/scripts/XML_daily.asp"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _bind(self) -> ThreadingHTTPServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                fake.requests.append(self.path)
                query = parse_qs(urlparse(self.path).query)
                asked = datetime.strptime(query["date_req"][0], "%d/%m/%Y").date()  # noqa: DTZ007
                if fake.fail_next:
                    self._send(fake.fail_next.pop(0), b"Service Unavailable", "text/plain")
                elif fake.mode == "error":
                    self._send(500, b"Internal Server Error", "text/plain")
                elif fake.mode == "broken" or asked in fake.broken_dates:
                    self._send(200, "<html><body>Сервис временно недоступен".encode("cp1251"), "text/html")
                elif fake.mode == "empty":
                    body = b'<?xml version="1.0"?><ValCurs Date="01.01.2026" name="x"></ValCurs>'
                    self._send(200, body, "application/xml")
                else:
                    self._send(200, daily_xml(asked, shift=fake.shift, vunit=fake.vunit), "application/xml")

            def _send(self, status, body, content_type):
                self.send_response(status)
                self.send_header("Content-Type", f"{content_type}; charset=windows-1251")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        for port in (*PORTS, 0):  # this engineer's ports first, then any free one (many xdist workers)
            try:
                return ThreadingHTTPServer(("127.0.0.1", port), Handler)
            except OSError:
                continue
        raise RuntimeError("no free local port for the fake bank")

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (a network error)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/scripts/XML_daily.asp"
