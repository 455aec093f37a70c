"""IMAP client on imap-tools' MailBox (SSL or STARTTLS, timeouts): fetch new messages once each.

New messages are found by UID above the last one taken (per UIDVALIDITY); each taken message is
flagged \\Seen. A lost UIDVALIDITY (mailbox recreated) restarts from UID 1 — the inbox table then
deduplicates by Message-ID, so nothing is taken twice. imap-tools sends folder names in IMAP's
modified UTF-7, so Cyrillic folders work.
"""

import imaplib
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from imap_tools import AND, MailBox, MailBoxStartTls, MailMessageFlags
from imap_tools.errors import ImapToolsError, MailboxFlagError, MailboxFolderSelectError, MailboxUidsError
from imap_tools.mailbox import BaseMailBox

from apps.integrations.errors import ChannelError, safe_message
from apps.integrations.models import ImapSecurity, IntegrationSettings

_UIDVALIDITY_RE = re.compile(rb"UIDVALIDITY (\d+)")
_IMAP_ERRORS = (OSError, imaplib.IMAP4.error, ImapToolsError)


def ssl_context() -> ssl.SSLContext:
    """Verified TLS; IMAP_CA_FILE (settings or env) adds a private CA (tests use a self-signed one)."""
    cafile = getattr(settings, "IMAP_CA_FILE", "") or None
    return ssl.create_default_context(cafile=cafile)


def _mailbox(integration: IntegrationSettings) -> BaseMailBox:
    timeout = settings.HTTP_TIMEOUT_SECONDS
    if integration.imap_security == ImapSecurity.SSL:
        return MailBox(integration.imap_host, integration.imap_port or 993, timeout=timeout, ssl_context=ssl_context())
    return MailBoxStartTls(
        integration.imap_host, integration.imap_port or 143, timeout=timeout, ssl_context=ssl_context()
    )


@contextmanager
def connect(integration: IntegrationSettings) -> Iterator[BaseMailBox]:
    secrets = (integration.imap_password,)
    try:
        mailbox = _mailbox(integration)
        mailbox.login(integration.imap_user, integration.imap_password, initial_folder=None)
    except _IMAP_ERRORS as error:
        raise ChannelError(f"Не удалось подключиться к IMAP: {safe_message(error, *secrets)}") from None
    try:
        yield mailbox
    finally:
        try:
            mailbox.logout()
        except _IMAP_ERRORS:
            pass


def select(mailbox: BaseMailBox, folder: str) -> int | None:
    """Select the folder; returns its UIDVALIDITY (from the SELECT answer, no extra command)."""
    try:
        mailbox.folder.set(folder)
    except MailboxFolderSelectError:
        raise ChannelError(f"IMAP-папка «{folder}» не найдена.") from None
    except _IMAP_ERRORS as error:
        raise ChannelError(f"IMAP: папку «{folder}» открыть не удалось: {safe_message(error)}") from None
    conn = mailbox.client
    for response in conn.response("UIDVALIDITY")[1] or []:
        if response:
            return int(response)
    match = _UIDVALIDITY_RE.search(b" ".join(conn.untagged_responses.get("OK", [])))
    return int(match.group(1)) if match else None


def new_uids(mailbox: BaseMailBox, after_uid: int) -> list[int]:
    try:
        found = mailbox.uids(AND(uid=f"{after_uid + 1}:*"), charset=None)
    except MailboxUidsError:
        raise ChannelError("IMAP: поиск новых писем не удался.") from None
    return sorted(uid for uid in map(int, found) if uid > after_uid)  # "N:*" always returns the last message


def fetch(mailbox: BaseMailBox, uid: int) -> bytes | None:
    """The message's bytes exactly as stored (BODY.PEEK: not marked \\Seen before it is safe with us).

    Not MailBox.fetch(): its MailMessage keeps a re-parsed object, and the inbox stores the raw bytes.
    """
    status, data = mailbox.client.uid("FETCH", str(uid), "(BODY.PEEK[])")
    if status != "OK":
        return None
    for part in data:
        if isinstance(part, tuple) and len(part) == 2:
            return part[1]
    return None


def mark_seen(mailbox: BaseMailBox, uid: int) -> None:
    try:
        mailbox.flag(str(uid), MailMessageFlags.SEEN, True)
    except MailboxFlagError:
        pass  # as before: the message is safe in the inbox and the last UID moves past it, so it is not taken again


def check_mailbox(integration: IntegrationSettings) -> None:
    with connect(integration) as mailbox:
        select(mailbox, integration.imap_folder)
