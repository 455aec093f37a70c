"""A real IMAP server for tests: pymap's in-memory backend, STARTTLS with a self-signed cert.

Messages are put into the mailbox with IMAP APPEND (the real protocol) by `append()`.
"""

import datetime as dt
import imaplib
import ipaddress
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USER = "demouser"
PASSWORD = "demopass"  # noqa: S105 — pymap's demo account, test only


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class TlsProxy:
    """Implicit TLS (IMAPS, port-993 style) in front of a plain IMAP port: TLS is terminated here."""

    def __init__(self, backend_port: int, cert: Path, key: Path):
        self.backend_port = backend_port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(cert), str(key))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while self.running:
            try:
                raw, _ = self.listener.accept()
                client = self.context.wrap_socket(raw, server_side=True)
                backend = socket.create_connection(("127.0.0.1", self.backend_port), timeout=10)
            except OSError:
                continue
            for source, target in ((client, backend), (backend, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source, target):
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.close()
                except OSError:
                    pass

    def stop(self):
        self.running = False
        self.listener.close()


class ImapServer:
    """pymap on 127.0.0.1:<free port>.

    security="starttls": pymap itself with a self-signed certificate (STARTTLS before LOGIN).
    security="ssl": pymap on a private plain port behind TlsProxy, so clients speak IMAPS.
    """

    def __init__(self, security: str = "starttls"):
        self.security = security
        self.dir = Path(tempfile.mkdtemp(prefix="pymap-"))
        self.cert, self.key = make_certificate(self.dir)
        self.backend_port = _free_port()
        self.port = self.backend_port
        self.process = None
        self.proxy = None

    def start(self):
        pymap = Path(sys.executable).with_name("pymap")
        tls = ["--cert", str(self.cert), "--key", str(self.key)] if self.security == "starttls" else []
        self.process = subprocess.Popen(  # noqa: S603 — our own venv's pymap
            [str(pymap), "--port", str(self.backend_port), "--host", "127.0.0.1", *tls, "dict", "--demo-data"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while not self._answers():
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("pymap did not start")
            time.sleep(0.1)
        if self.security == "ssl":
            self.proxy = TlsProxy(self.backend_port, self.cert, self.key)
            self.port = self.proxy.port
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.backend_port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self):
        if self.proxy:
            self.proxy.stop()
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def connection(self) -> imaplib.IMAP4:
        if self.security == "ssl":
            conn = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=self.ssl_context(), timeout=10)
        else:
            conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
            conn.starttls(ssl_context=self.ssl_context())
        conn.login(USER, PASSWORD)
        return conn

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        conn = self.connection()
        try:
            status, _ = conn.append(folder, "", imaplib.Time2Internaldate(time.time()), raw)
            if status != "OK":
                raise RuntimeError(f"APPEND failed: {status}")
        finally:
            conn.logout()

    def create_folder(self, folder: str) -> None:
        conn = self.connection()
        try:
            conn.create(folder)
        finally:
            conn.logout()

    def search(self, folder: str, criterion: str) -> list[int]:
        conn = self.connection()
        try:
            conn.select(folder)
            _, data = conn.uid("SEARCH", None, criterion)
            return [int(uid) for uid in (data[0] or b"").split()]
        finally:
            conn.logout()
