"""Hand-written SQL of the accounts app (docs/development.md, "Raw SQL"): one statement, kept
because the ORM misses the /me benchmark's margin (BENCHMARKS.md, issue 13). Tested against its ORM
equivalent in apps/accounts/tests/test_queries.py.
"""

from __future__ import annotations

import functools

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from psycopg import sql

from apps.accounts.models import User
from apps.core.rows import columns_sql, render, table_sql


@functools.cache
def _user_with_permissions_statement() -> str:
    """The user's row and the names ("app_label.codename") of their own and their groups' permissions."""
    user_perms = table_sql(User.user_permissions.through)
    user_groups = table_sql(User.groups.through)
    group_perms = table_sql(Permission.group_set.through)
    return render(
        sql.SQL(
            """
        SELECT {columns}, ARRAY(
            SELECT ct.app_label || '.' || p.codename
            FROM {permission} p
            JOIN {content_type} ct ON ct.id = p.content_type_id
            WHERE p.id IN (
                SELECT up.permission_id FROM {user_perms} up WHERE up.user_id = u.id
                UNION
                SELECT gp.permission_id FROM {group_perms} gp
                JOIN {user_groups} ug ON ug.group_id = gp.group_id
                WHERE ug.user_id = u.id
            )
        )
        FROM {user} u
        WHERE u.id = %s
        """
        ).format(
            columns=columns_sql(User, alias="u"),
            permission=table_sql(Permission),
            content_type=table_sql(ContentType),
            user_perms=user_perms,
            group_perms=group_perms,
            user_groups=user_groups,
            user=table_sql(User),
        )
    )


@functools.cache
def _field_names() -> list[str]:
    return [field.attname for field in User._meta.concrete_fields]


def user_with_permission_names(pk: int) -> tuple[User, set[str]] | None:
    """One statement: the user and every permission ModelBackend would load with two more; None if no user."""
    with connection.cursor() as cursor:
        cursor.execute(_user_with_permissions_statement(), [int(pk)])
        row = cursor.fetchone()
    if row is None:
        return None
    *values, permission_names = row
    return User.from_db(connection.alias, _field_names(), values), set(permission_names)
