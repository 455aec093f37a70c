"""Russian names for the audit log's actions, events, models and fields (auditlog has no Russian)."""

from auditlog.models import LogEntry
from django.core.exceptions import FieldDoesNotExist

ACTION_CODES = {
    LogEntry.Action.CREATE: "create",
    LogEntry.Action.UPDATE: "update",
    LogEntry.Action.DELETE: "delete",
    LogEntry.Action.ACCESS: "access",
}
ACTION_BY_CODE = {code: action for action, code in ACTION_CODES.items()}
ACTION_LABELS = {
    LogEntry.Action.CREATE: "Создание",
    LogEntry.Action.UPDATE: "Изменение",
    LogEntry.Action.DELETE: "Удаление",
    LogEntry.Action.ACCESS: "Доступ",
}
EVENT_LABELS = {
    "login": "Вход в систему",
    "login_failed": "Неудачная попытка входа",
    "logout": "Выход из системы",
    "password_changed": "Смена пароля",
    "role_changed": "Смена роли",
    "is_active_changed": "Включение / отключение учётной записи",
    "is_superuser_changed": "Изменение прав администратора",
    "is_staff_changed": "Изменение доступа в админку",
    "secret_changed": "Изменение секрета интеграции",
    "export": "Выгрузка",
    "subject_export": "Выдача сведений субъекту ПДн",
    "anonymize": "Обезличивание клиента",
    "consent_given": "Согласие на обработку ПДн",
    "consent_withdrawn": "Отзыв согласия на обработку ПДн",
}


def action_label(entry) -> str:
    event = (entry.additional_data or {}).get("event") if isinstance(entry.additional_data, dict) else None
    if event:
        return EVENT_LABELS.get(event, event)
    return ACTION_LABELS.get(entry.action, str(entry.action))


def model_label(content_type) -> str:
    model = content_type.model_class() if content_type else None
    return str(model._meta.verbose_name).capitalize() if model else (content_type.model if content_type else "")


def field_label(content_type, name: str) -> str:
    model = content_type.model_class() if content_type else None
    if model is None:
        return name
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    return str(getattr(field, "verbose_name", name)).capitalize()


def _is_relation_noise(content_type, name: str) -> bool:
    """auditlog 3 lists reverse relations ("files": "clients.ClientFile.None") in a CREATE: not data."""
    model = content_type.model_class() if content_type else None
    try:
        return model is not None and not model._meta.get_field(name).concrete
    except FieldDoesNotExist:
        return False


def changes_readable(entry) -> list[tuple[str, str, str]]:
    """[(field label, old, new)] of an entry's stored (already masked) changes."""
    changes = entry.changes_dict or {}  # stored as a dict or as JSON text, depending on settings
    rows = []
    for name, values in changes.items():
        if _is_relation_noise(entry.content_type, name):
            continue
        if isinstance(values, list | tuple) and len(values) == 2:
            old, new = values
        else:
            old, new = "", values
        rows.append((field_label(entry.content_type, name), str(old), str(new)))
    return rows
