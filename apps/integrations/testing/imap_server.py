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


class ImapServer:
    """pymap on 127.0.0.1:<free port>, STARTTLS required for login."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="pymap-"))
        self.cert, self.key = make_certificate(self.dir)
        self.port = _free_port()
        self.process = None

    def start(self):
        pymap = Path(sys.executable).with_name("pymap")
        self.process = subprocess.Popen(  # noqa: S603 — our own venv's pymap
            [
                str(pymap),
                "--port",
                str(self.port),
                "--host",
                "127.0.0.1",
                "--cert",
                str(self.cert),
                "--key",
                str(self.key),
                "dict",
                "--demo-data",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("pymap did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def connection(self) -> imaplib.IMAP4:
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
