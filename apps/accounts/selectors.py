"""Reads about users."""

from django.contrib.auth.models import Permission
from django.db.models import Q

from apps.accounts.models import User


def user_permission_names(user: User) -> set[str]:
    """The same set as user.get_all_permissions() ("app_label.codename"), in one query instead of two."""
    if not user.is_active:
        return set()
    permissions = Permission.objects.all()
    if not user.is_superuser:
        permissions = permissions.filter(Q(user=user) | Q(group__user=user))
    rows = permissions.values_list("content_type__app_label", "codename").distinct()
    return {f"{app_label}.{codename}" for app_label, codename in rows}
