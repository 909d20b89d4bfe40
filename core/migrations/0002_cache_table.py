"""Create the database cache table when the cache is the database (REDIS_URL unset).

So that `migrate` alone prepares any deployment, with or without Redis; a no-op when
the cache is Redis, and idempotent.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("project", "0001_initial")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
