"""Registry of everything that points at a client, so a merge can move it all in one place.

Apps register their references in their AppConfig.ready():

    register_client_reference("leads.Lead", "client")        # a ForeignKey to clients.Client
    register_client_m2m("orders.Order", "travellers")        # a ManyToManyField to clients.Client

apps.clients.services.client_merge moves every registered reference from the merged-away client
to the surviving one (for M2M without creating duplicate links).
"""

from django.apps import apps

_FOREIGN_KEYS: list[tuple[str, str]] = []
_MANY_TO_MANY: list[tuple[str, str]] = []


def register_client_reference(model_label: str, field: str) -> None:
    if (model_label, field) not in _FOREIGN_KEYS:
        _FOREIGN_KEYS.append((model_label, field))


def register_client_m2m(model_label: str, field: str) -> None:
    if (model_label, field) not in _MANY_TO_MANY:
        _MANY_TO_MANY.append((model_label, field))


def registered_references() -> list[tuple[str, str]]:
    return list(_FOREIGN_KEYS)


def registered_m2m() -> list[tuple[str, str]]:
    return list(_MANY_TO_MANY)


def move_references(*, source_id: int, target_id: int) -> dict[str, int]:
    """Point every registered reference at target instead of source. Returns rows moved per label."""
    moved: dict[str, int] = {}
    for model_label, field in _FOREIGN_KEYS:
        model = apps.get_model(model_label)
        column = model._meta.get_field(field).attname
        count = model._base_manager.filter(**{column: source_id}).update(**{column: target_id})
        moved[f"{model_label}.{field}"] = count
    for model_label, field in _MANY_TO_MANY:
        moved[f"{model_label}.{field}"] = _move_m2m(apps.get_model(model_label), field, source_id, target_id)
    return moved


def _move_m2m(model, field_name: str, source_id: int, target_id: int) -> int:
    field = model._meta.get_field(field_name)
    through = field.remote_field.through
    owner_column = through._meta.get_field(field.m2m_field_name()).attname
    client_column = through._meta.get_field(field.m2m_reverse_field_name()).attname
    manager = through._base_manager
    already_linked = manager.filter(**{client_column: target_id}).values(owner_column)
    manager.filter(**{client_column: source_id, f"{owner_column}__in": already_linked}).delete()
    return manager.filter(**{client_column: source_id}).update(**{client_column: target_id})
