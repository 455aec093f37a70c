"""Roles are Django groups with model permissions: one source of truth for the API and the admin.

Each app declares what its models allow per role in `apps/<app>/roles.py`:

    ROLE_PERMISSIONS = {
        "operator": ["clients.view_client", "clients.add_client", ...],
        "accountant": [...],
        "supervisor": [...],
    }

`sync_role_groups()` collects these declarations, creates the three groups and sets exactly these
permissions on them. It runs from a data migration and again after every `migrate` (post_migrate),
so permissions of models added later by other apps reach the groups too.
"""

import importlib

from django.apps import apps as global_apps

from apps.accounts.models import Role

ROLE_PERMISSIONS = {
    "operator": [],
    "accountant": [],
    "supervisor": [
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "auditlog.view_logentry",
    ],
}


def declared_permissions() -> dict[str, set[str]]:
    declared: dict[str, set[str]] = {role.value: set() for role in Role}
    for app_config in global_apps.get_app_configs():
        if not app_config.name.startswith("apps."):
            continue
        try:
            module = importlib.import_module(f"{app_config.name}.roles")
        except ModuleNotFoundError as error:
            if error.name != f"{app_config.name}.roles":
                raise
            continue
        for role, perms in getattr(module, "ROLE_PERMISSIONS", {}).items():
            declared[role].update(perms)
    return declared


def sync_role_groups(apps=global_apps) -> None:
    """Create/refresh the role groups with exactly the declared permissions that exist."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in declared_permissions().items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".", 1)
            wanted.extend(
                Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)
