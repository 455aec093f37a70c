"""Reads about users."""

from apps.accounts import queries
from apps.accounts.models import Role, User


def user_with_permissions(pk) -> User:
    """One query: the user with their permissions preloaded (has_perm() then asks nothing more).

    `user.preloaded_permissions` holds what ModelBackend would load with two more queries: the
    user's own and their groups' permissions as "app_label.codename";
    apps.accounts.backends.PermissionBackend answers from it. Superusers are left to Django (every
    permission is theirs; has_perm() answers without a query). This runs on every API request.
    """
    found = queries.user_with_permission_names(pk)
    if found is None:
        raise User.DoesNotExist(f"no user {pk}")
    user, permission_names = found
    if not user.is_superuser:
        user.preloaded_permissions = permission_names
    return user


def managers():
    """Who can be responsible for a lead or an order: active managers and supervisors (not accountants)."""
    return User.objects.filter(is_active=True, role__in=[Role.OPERATOR, Role.SUPERVISOR]).order_by("full_name", "id")
