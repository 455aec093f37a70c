"""SMTP: replies from a mailbox integration (SSL/TLS or STARTTLS, login, timeouts).

The steps are taken one by one so a failure says whether the customer can have the letter:
anything before DATA (connect, TLS, login, MAIL FROM, RCPT TO) delivered nothing and may be
retried; an explicit 4xx refusal of the DATA is retried too; a connection lost or timed out while
the server was taking the DATA is DeliveryUnknown — never re-sent blindly.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

from django.conf import settings

from apps.integrations.email.client import ssl_context
from apps.integrations.errors import ChannelError, ChannelRejected, DeliveryUnknown, safe_message
from apps.integrations.models import ImapSecurity, IntegrationSettings


def _connect(integration: IntegrationSettings) -> smtplib.SMTP:
    timeout = settings.HTTP_TIMEOUT_SECONDS
    if integration.smtp_security == ImapSecurity.SSL:
        return smtplib.SMTP_SSL(integration.smtp_host, integration.smtp_port or 465, timeout=timeout,
                                context=ssl_context())
    conn = smtplib.SMTP(integration.smtp_host, integration.smtp_port or 587, timeout=timeout)
    conn.ehlo()
    conn.starttls(context=ssl_context())  # no plaintext fallback: a server without STARTTLS is an error
    conn.ehlo()
    return conn


def _refused(code: int, what: str, reply: bytes | str) -> ChannelError:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    detail = f"SMTP-сервер отклонил {what}: {code} {text}"[:400]
    # 4xx: "try later" (greylisting, rate limits) — nothing was delivered; 5xx: for good.
    return ChannelError(detail, code="smtp_temporary") if 400 <= code < 500 else ChannelRejected(detail)


def send(integration: IntegrationSettings, message: EmailMessage, *, recipient: str) -> None:
    """Send one letter. Raises ChannelError (retry), ChannelRejected (never) or DeliveryUnknown."""
    secrets = (integration.smtp_password,)
    sender = integration.sender_address
    if not integration.smtp_host:
        raise ChannelRejected("SMTP-сервер почтовой интеграции не задан.", code="smtp_missing")
    try:
        conn = _connect(integration)
    except (OSError, smtplib.SMTPException) as error:
        raise ChannelError(f"Не удалось подключиться к SMTP: {safe_message(error, *secrets)}") from None
    try:
        try:
            if integration.smtp_user:
                conn.login(integration.smtp_user, integration.smtp_password)
            code, reply = conn.mail(sender)
            if code != 250:
                raise _refused(code, "отправителя", reply)
            code, reply = conn.rcpt(recipient)
            if code not in (250, 251):
                raise _refused(code, "адресата", reply)
        except smtplib.SMTPAuthenticationError:
            raise ChannelRejected("SMTP-сервер не принял логин или пароль.", code="smtp_auth") from None
        except (OSError, smtplib.SMTPException) as error:
            raise ChannelError(f"SMTP: {safe_message(error, *secrets)}") from None
        try:
            code, reply = conn.data(message.as_bytes(policy=SMTP_POLICY))
        except smtplib.SMTPDataError as error:  # refused at the DATA command itself (before the letter)
            raise _refused(error.smtp_code, "письмо", error.smtp_error) from None
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryUnknown(f"SMTP-сервер не подтвердил приём письма: {safe_message(error, *secrets)}") from None
        if code != 250:  # smtplib returns the final answer to the letter, it does not raise
            raise _refused(code, "письмо", reply)
    finally:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()


def check(integration: IntegrationSettings) -> None:
    """Connect and log in («Проверить подключение»)."""
    try:
        conn = _connect(integration)
        try:
            if integration.smtp_user:
                conn.login(integration.smtp_user, integration.smtp_password)
        finally:
            conn.close()
    except (OSError, smtplib.SMTPException) as error:
        raise ChannelError(f"SMTP: {safe_message(error, integration.smtp_password)}") from None
