"""Reads about users."""

from functools import cache

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from apps.accounts.models import Role, User


@cache
def _user_with_permissions_sql() -> str:
    # Hand-written: this runs on every API request, and the ORM's compilation of the same
    # query cost more than the query itself. Table names come from the models.
    user_perms = User.user_permissions.through._meta.db_table
    user_groups = User.groups.through._meta.db_table
    group_perms = Permission.group_set.through._meta.db_table
    columns = ", ".join(f'u."{field.column}"' for field in User._meta.concrete_fields)
    return f"""
        SELECT {columns}, ARRAY(
            SELECT ct.app_label || '.' || p.codename
            FROM {Permission._meta.db_table} p
            JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id
            WHERE p.id IN (
                SELECT up.permission_id FROM {user_perms} up WHERE up.user_id = u.id
                UNION
                SELECT gp.permission_id FROM {group_perms} gp
                JOIN {user_groups} ug ON ug.group_id = gp.group_id
                WHERE ug.user_id = u.id
            )
        ) AS permission_names
        FROM {User._meta.db_table} u
        WHERE u.id = %s
    """  # noqa: S608 - table names from model metadata, the value is a parameter


@cache
def _field_names() -> list[str]:
    return [field.attname for field in User._meta.concrete_fields]


def user_with_permissions(pk) -> User:
    """One query: the user, with Django's permission cache filled (has_perm() then asks nothing more).

    The cache holds what ModelBackend would load with two more queries: the user's own and their
    groups' permissions as "app_label.codename". Superusers are left to Django (every permission
    is theirs; has_perm() answers without a query). A plain cursor and Model.from_db(): this runs on
    every API request, and a RawQuerySet's column mapping cost as much as the query.
    """
    with connection.cursor() as cursor:
        cursor.execute(_user_with_permissions_sql(), [int(pk)])
        row = cursor.fetchone()
    if row is None:
        raise User.DoesNotExist(f"no user {pk}")
    *values, permission_names = row
    user = User.from_db(connection.alias, _field_names(), values)
    if not user.is_superuser:
        user._perm_cache = set(permission_names)
    return user


def managers():
    """Who can be responsible for a lead or an order: active managers and supervisors (not accountants)."""
    return User.objects.filter(is_active=True, role__in=[Role.OPERATOR, Role.SUPERVISOR]).order_by("full_name", "id")
