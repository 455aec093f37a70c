"""A real SMTP server for tests (aiosmtpd): STARTTLS or SSL/TLS with a self-signed certificate,
AUTH LOGIN/PLAIN only after TLS, and knobs for the failures a reply job must survive."""

import asyncio
import email
import ssl
import tempfile
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from apps.integrations.testing.imap_server import _free_port, make_certificate

USER = "sales@agency.test"
PASSWORD = "smtp-pass-0123"  # noqa: S105 — a test server's password


class _Handler:
    def __init__(self, server: "SmtpServer"):
        self.server = server

    async def handle_DATA(self, smtp, session, envelope):  # noqa: N802 — aiosmtpd's naming
        server = self.server
        if server.refuse_data:
            server.refuse_data -= 1
            return "451 4.3.0 Try again later"
        if server.hang_after_data:  # the letter arrived, the answer never comes (the client times out)
            server.hang_after_data -= 1
            server.received.append(envelope.content)
            await asyncio.sleep(server.hang_seconds)
            return "250 OK"
        server.received.append(envelope.content)
        return "250 OK: queued"


class SmtpServer:
    def __init__(self, security: str = "starttls"):
        self.security = security
        self._dir = tempfile.TemporaryDirectory()
        self.cert, key = make_certificate(Path(self._dir.name))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(self.cert), str(key))
        self.received: list[bytes] = []
        self.refuse_data = 0  # the next N letters get "451 try again later" at DATA
        self.hang_after_data = 0  # the next N letters are taken but never answered
        self.hang_seconds = 5.0
        options = {"authenticator": self._auth, "auth_require_tls": security != "ssl"}
        if security == "ssl":  # the whole session is TLS: aiosmtpd need not see a STARTTLS first
            self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=_free_port(), ssl_context=context,
                                         server_hostname="127.0.0.1", **options)
        else:
            self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=_free_port(), tls_context=context,
                                         require_starttls=True, **options)

    @staticmethod
    def _auth(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() and \
            auth_data.password == PASSWORD.encode()
        return AuthResult(success=ok)

    @property
    def port(self) -> int:
        return self.controller.port

    def start(self):
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
        self._dir.cleanup()

    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(raw, policy=default_policy) for raw in self.received]
