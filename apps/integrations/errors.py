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
