"""IMAP client (imaplib with timeouts; SSL or STARTTLS): fetch new messages once each.

New messages are found by UID above the last one taken (per UIDVALIDITY); each taken message is
flagged \\Seen. A lost UIDVALIDITY (mailbox recreated) restarts from UID 1 — the inbox table then
deduplicates by Message-ID, so nothing is taken twice.
"""

import imaplib
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from imap_tools.imap_utf7 import utf7_encode

from apps.integrations.errors import ChannelError, safe_message
from apps.integrations.models import ImapSecurity, IntegrationSettings

_UIDVALIDITY_RE = re.compile(rb"UIDVALIDITY (\d+)")


def ssl_context() -> ssl.SSLContext:
    """Verified TLS; IMAP_CA_FILE (settings or env) adds a private CA (tests use a self-signed one)."""
    cafile = getattr(settings, "IMAP_CA_FILE", "") or None
    return ssl.create_default_context(cafile=cafile)


@contextmanager
def connect(integration: IntegrationSettings) -> Iterator[imaplib.IMAP4]:
    timeout = settings.HTTP_TIMEOUT_SECONDS
    secrets = (integration.imap_password,)
    try:
        if integration.imap_security == ImapSecurity.SSL:
            conn = imaplib.IMAP4_SSL(
                integration.imap_host, integration.imap_port or 993, ssl_context=ssl_context(), timeout=timeout
            )
        else:
            conn = imaplib.IMAP4(integration.imap_host, integration.imap_port or 143, timeout=timeout)
            conn.starttls(ssl_context=ssl_context())
        conn.login(integration.imap_user, integration.imap_password)
    except (OSError, imaplib.IMAP4.error) as error:
        raise ChannelError(f"Не удалось подключиться к IMAP: {safe_message(error, *secrets)}") from None
    try:
        yield conn
    finally:
        try:
            conn.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def select(conn: imaplib.IMAP4, folder: str) -> int | None:
    """Select the folder; returns its UIDVALIDITY."""
    status, _ = conn.select(_quote(folder))
    if status != "OK":
        raise ChannelError(f"IMAP-папка «{folder}» не найдена.")
    for response in conn.response("UIDVALIDITY")[1] or []:
        if response:
            return int(response)
    match = _UIDVALIDITY_RE.search(b" ".join(conn.untagged_responses.get("OK", [])))
    return int(match.group(1)) if match else None


def new_uids(conn: imaplib.IMAP4, after_uid: int) -> list[int]:
    status, data = conn.uid("SEARCH", None, f"UID {after_uid + 1}:*")
    if status != "OK":
        raise ChannelError("IMAP: поиск новых писем не удался.")
    uids = [int(uid) for uid in (data[0] or b"").split()]
    return sorted(uid for uid in uids if uid > after_uid)  # "N:*" always returns the last message


def fetch(conn: imaplib.IMAP4, uid: int) -> bytes | None:
    status, data = conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
    if status != "OK":
        return None
    for part in data:
        if isinstance(part, tuple) and len(part) == 2:
            return part[1]
    return None


def mark_seen(conn: imaplib.IMAP4, uid: int) -> None:
    conn.uid("STORE", str(uid), "+FLAGS", "(\\Seen)")


def check_mailbox(integration: IntegrationSettings) -> None:
    with connect(integration) as conn:
        select(conn, integration.imap_folder)


def _quote(folder: str) -> str:
    """A quoted mailbox name in IMAP's modified UTF-7 (RFC 3501 5.1.3): «Заявки» → &BBcEMARPBDIEOgQ4-;
    imaplib would send it as ASCII and fail on any Cyrillic name."""
    encoded = utf7_encode(folder).decode("ascii")
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'
