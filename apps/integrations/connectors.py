"""One entry point per integration type for "who am I" / "check the connection" / webhooks."""

from django.conf import settings

from apps.integrations.models import IntegrationSettings, IntegrationType


def webhook_url(integration: IntegrationSettings) -> str:
    """The public address the channel's server posts updates to (PUBLIC_BASE_URL + the webhook route)."""
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    return f"{base}/api/v1/integrations/{integration.type}/{integration.pk}/webhook/"


def telegram_identity(integration: IntegrationSettings) -> str:
    """getMe: the bot's @username (raises ChannelError on a bad token or no connection)."""
    from apps.integrations.telegram import client

    me = client.get_me(integration.api_token_encrypted)
    return me.get("username") or me.get("first_name") or ""


def telegram_set_webhook(integration: IntegrationSettings) -> None:
    from apps.integrations.telegram import client

    client.set_webhook(integration.api_token_encrypted, webhook_url(integration), integration.webhook_secret)


def telegram_delete_webhook(integration: IntegrationSettings) -> None:
    from apps.integrations.telegram import client

    client.delete_webhook(integration.api_token_encrypted)


def check(integration: IntegrationSettings) -> str:
    """Try the connection; returns a display name (may be empty). Raises ChannelError."""
    if integration.type == IntegrationType.TELEGRAM:
        return telegram_identity(integration)
    if integration.type == IntegrationType.WHATSAPP:
        from apps.integrations.whatsapp import client as whatsapp

        return whatsapp.check_phone_number(integration.api_token_encrypted, integration.phone_number_id)
    from apps.integrations.email import client as imap

    imap.check_mailbox(integration)
    if integration.smtp_host:  # replies go out through SMTP: check the login too
        from apps.integrations.email import smtp

        smtp.check(integration)
    return ""
