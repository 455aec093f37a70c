"""Errors of the external channels (Telegram, WhatsApp Graph, IMAP)."""

from apps.core.errors import BusinessError


class ChannelError(BusinessError):
    """An external channel refused or could not be reached. The message never holds a secret."""

    status_code = 502
    default_code = "channel_error"


class ChannelRejected(ChannelError):
    """The channel refused for good (bad token, blocked bot, unknown chat or file): retrying
    cannot help, so a job gives up at once."""

    default_code = "rejected"


def safe_message(error: BaseException, *secrets: str) -> str:
    """The error's text with every given secret blanked out and personal data scrubbed."""
    from travelcrm.logging import scrub

    text = f"{type(error).__name__}: {error}"
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return scrub(text)[:1000]


class RateLimited(ChannelError):
    """The channel answered 429: come back after `retry_after` seconds (nothing was delivered)."""

    default_code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float):
        super().__init__(message)
        self.retry_after = float(retry_after)


class DeliveryUnknown(ChannelError):
    """The request left but no answer came back (the connection broke or timed out after sending):
    the customer may have the message. Never retried blindly — the message becomes «доставка не
    подтверждена» and a person decides."""

    default_code = "delivery_unknown"
