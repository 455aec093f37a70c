"""Hand-written SQL of the jobs app (docs/development.md, "Raw SQL"), composed with psycopg.sql.

The backup's catalogue reads: no model covers "every table" or an exported snapshot, so these have
no ORM equivalent (tested in apps/jobs/tests through the backups they describe).
"""

from __future__ import annotations

from django.db import connection
from psycopg import sql

from apps.core.rows import render


def public_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        return [row[0] for row in cursor.fetchall()]


def row_counts() -> dict[str, int]:
    """count(*) of every table of the public schema."""
    counts = {}
    with connection.cursor() as cursor:
        for table in public_tables():
            cursor.execute(render(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))))
            counts[table] = cursor.fetchone()[0]
    return counts


def export_snapshot() -> str:
    """Make the current transaction a read-only REPEATABLE READ snapshot and export it (for pg_dump
    --snapshot); call it first in a transaction.atomic() block."""
    with connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        return cursor.fetchone()[0]
