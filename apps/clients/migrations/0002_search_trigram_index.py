"""pg_trgm GIN index over Client.search_name, when the server offers the extension.

The embedded PostgreSQL of `make run` (pgserver) lacks pg_trgm: there the migration does nothing
and ?search= falls back to a sequential LIKE scan (still correct, slower on large data).
"""

from django.db import migrations

INDEX = "clients_client_search_trgm"


def create_trigram_index(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        if cursor.fetchone() is None:
            return
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON clients_client USING gin (search_name gin_trgm_ops)"  # noqa: S608
        )


def drop_trigram_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("clients", "0001_initial")]

    operations = [migrations.RunPython(create_trigram_index, drop_trigram_index)]
