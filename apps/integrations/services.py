"""Integration settings: add, replace secrets, activate, deactivate, check the connection.

Entering or replacing a secret (bot token, WhatsApp secrets, IMAP password) needs the
ADMIN_PASSWORD from the environment besides a supervisor's login; a wrong one is refused with
403 and leaves an audit entry. Secrets are encrypted in the database and never returned.
"""

import hmac
import logging
import secrets as pysecrets

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from apps.accounts import lockout
from apps.accounts.models import User
from apps.core.errors import BusinessError
from apps.integrations import connectors
from apps.integrations.errors import ChannelError
from apps.integrations.models import IntegrationSettings, IntegrationType

logger = logging.getLogger("travelcrm.integrations")

# Plain (non-secret) settings a request may set, per type.
PLAIN_FIELDS: dict[str, tuple[str, ...]] = {
    IntegrationType.TELEGRAM: ("bot_name",),
    IntegrationType.WHATSAPP: ("bot_name", "phone_number_id"),
    IntegrationType.EMAIL: (
        "bot_name", "imap_host", "imap_port", "imap_security", "imap_user", "imap_folder",
        "smtp_host", "smtp_port", "smtp_security", "smtp_user", "smtp_from",
    ),
}
SECRET_INPUTS: dict[str, tuple[str, ...]] = {
    IntegrationType.TELEGRAM: ("api_token",),
    IntegrationType.WHATSAPP: ("api_token", "app_secret", "verify_token"),
    IntegrationType.EMAIL: ("imap_password", "smtp_password"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    IntegrationType.TELEGRAM: ("api_token",),
    IntegrationType.WHATSAPP: ("api_token", "app_secret", "verify_token", "phone_number_id"),
    IntegrationType.EMAIL: ("imap_host", "imap_user", "imap_password"),
}
_MODEL_FIELD = {"api_token": "api_token_encrypted"}


ADMIN_PASSWORD_GATE = "admin-password"  # noqa: S105 - the lockout counter's name, not a secret


class AdminPasswordError(BusinessError):
    status_code = 403
    default_code = "admin_password_invalid"


def admin_password_verify(
    *, password: str | None, actor, integration: IntegrationSettings | None = None, request=None
) -> None:
    """Constant-time check of ADMIN_PASSWORD; a wrong one writes an audit entry and raises 403.

    With the request, failures count like logins (apps.accounts.lockout): five for one
    (user, client address) pair, or the address ceiling, answer 429 before the password is looked at.
    """
    gate = lockout.gate_check(request, scope=ADMIN_PASSWORD_GATE, user=actor)
    expected = settings.ADMIN_PASSWORD or ""
    given = password or ""
    if expected and hmac.compare_digest(given.encode(), expected.encode()):
        lockout.gate_passed(gate, scope=ADMIN_PASSWORD_GATE, user=actor)
        return
    lockout.gate_failed(gate, scope=ADMIN_PASSWORD_GATE, user=actor)
    LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(IntegrationSettings),
        object_pk=str(integration.pk) if integration else "",
        object_id=integration.pk if integration else None,
        object_repr=str(integration) if integration else "интеграция (новая)",
        action=LogEntry.Action.ACCESS,
        changes={},
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        additional_data={"event": "admin_password_rejected"},
    )
    logger.warning("admin password rejected", extra={"actor_id": getattr(actor, "pk", None)})
    detail = "Неверный пароль администратора." if expected else "ADMIN_PASSWORD не задан в окружении."
    raise AdminPasswordError(detail, fields={"admin_password": [detail]})


def _validate(type_: str, data: dict, *, creating: bool) -> None:
    if type_ not in IntegrationType.values:
        raise BusinessError(
            "Неизвестный тип интеграции.", code="validation_error", fields={"type": ["Неизвестный тип."]}
        )
    if creating:
        missing = [name for name in REQUIRED[type_] if not data.get(name)]
        if missing:
            raise BusinessError(
                "Не заполнены обязательные поля.",
                code="validation_error",
                fields={name: ["Обязательное поле."] for name in missing},
            )
    unknown = set(data) - set(PLAIN_FIELDS[type_]) - set(SECRET_INPUTS[type_]) - {"purpose"}
    if unknown:
        raise BusinessError(
            "Поля не относятся к этому типу интеграции.",
            code="validation_error",
            fields={name: ["Недопустимо для этого типа."] for name in sorted(unknown)},
        )


def _apply(integration: IntegrationSettings, data: dict) -> None:
    for name, value in data.items():
        setattr(integration, _MODEL_FIELD.get(name, name), value)


def integration_add(
    *, actor, admin_password: str | None, type: str, purpose: str, data: dict, request=None  # noqa: A002
) -> IntegrationSettings:
    """Create an integration. Telegram tokens are checked with getMe and the bot's name stored.

    request: for the ADMIN_PASSWORD lockout (the client address); None when already checked.
    """
    data = {key: value for key, value in data.items() if value not in (None, "")}
    _validate(type, data, creating=True)
    admin_password_verify(password=admin_password, actor=actor, request=request)
    integration = IntegrationSettings(type=type, purpose=purpose)
    _apply(integration, data)
    if type == IntegrationType.TELEGRAM:
        me = connectors.telegram_identity(integration)
        integration.bot_name = me
        integration.last_connected_at = timezone.now()
    return _save_new(integration)


@transaction.atomic
def _save_new(integration: IntegrationSettings) -> IntegrationSettings:
    integration.full_clean()
    integration.save()
    return integration


def integration_update(
    *, actor, integration: IntegrationSettings, admin_password: str | None, data: dict, request=None
) -> IntegrationSettings:
    """Change settings; replacing any secret needs ADMIN_PASSWORD too (request: as in integration_add)."""
    data = {key: value for key, value in data.items() if value is not None}
    _validate(integration.type, data, creating=False)
    secrets_given = [name for name in SECRET_INPUTS[integration.type] if data.get(name)]
    if secrets_given:
        admin_password_verify(password=admin_password, actor=actor, integration=integration, request=request)
    for name in SECRET_INPUTS[integration.type]:
        if not data.get(name):
            data.pop(name, None)
    _apply(integration, data)
    if integration.type == IntegrationType.TELEGRAM and "api_token" in data:
        integration.bot_name = connectors.telegram_identity(integration)
        integration.last_connected_at = timezone.now()
    with transaction.atomic():
        integration.full_clean()
        integration.save()
    return integration


def integration_activate(*, actor: User, integration: IntegrationSettings) -> IntegrationSettings:
    """Activate; a Telegram bot gets its webhook (random secret_token) when PUBLIC_BASE_URL is set."""
    if integration.type == IntegrationType.TELEGRAM:
        integration.webhook_secret = pysecrets.token_urlsafe(32)
        if settings.PUBLIC_BASE_URL:
            try:
                connectors.telegram_set_webhook(integration)
            except ChannelError as error:
                _record_error(integration, error.detail)
                raise
            integration.last_connected_at = timezone.now()
            integration.last_error = ""
    integration.is_active = True
    with transaction.atomic():
        integration.save()
    return integration


def integration_deactivate(*, actor: User, integration: IntegrationSettings) -> IntegrationSettings:
    """Deactivate; a Telegram webhook is removed (best effort: a failure is recorded, not raised)."""
    if integration.type == IntegrationType.TELEGRAM and settings.PUBLIC_BASE_URL and integration.is_active:
        try:
            connectors.telegram_delete_webhook(integration)
        except ChannelError as error:
            integration.last_error = error.detail
    integration.is_active = False
    with transaction.atomic():
        integration.save()
    return integration


def integration_check_connection(*, integration: IntegrationSettings) -> bool:
    """«Проверить подключение»: updates last_connected_at or last_error; returns True when OK."""
    try:
        name = connectors.check(integration)
    except ChannelError as error:
        _record_error(integration, error.detail)
        return False
    if name and integration.type == IntegrationType.TELEGRAM:
        integration.bot_name = name
    integration.last_connected_at = timezone.now()
    integration.last_error = ""
    integration.save(update_fields=["bot_name", "last_connected_at", "last_error", "updated_at"])
    return True


def _record_error(integration: IntegrationSettings, message: str) -> None:
    integration.last_error = message[:1000]
    if integration.pk:
        IntegrationSettings.objects.filter(pk=integration.pk).update(last_error=integration.last_error)


