"""A trigram index that `name__icontains` uses, on PostgreSQL only.

Django compiles `icontains` to `UPPER("name"::text) LIKE UPPER(%s)`, so the index is
on UPPER(name) with gin_trgm_ops. SQLite has neither pg_trgm nor GIN: there the
operations do nothing and searches scan, which is fine at its scale.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEX = "users_name_upper_trgm_idx"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON users_user USING gin (UPPER(name) gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("users", "0003_post_count")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_index, drop_index),
    ]
