"""`content` holds at most 20,000 characters: in the API and admin, and in the database.

On PostgreSQL the CHECK constraint is added NOT VALID: adding it scans no rows (and
holds its lock only for a moment, however many posts there are), posts stored before
it keep their content, and every INSERT and UPDATE from now on is checked, an edit of
an older, longer post included. Once no such post is left, `ALTER TABLE posts_post
VALIDATE CONSTRAINT posts_post_content_max_length` marks it valid. Other databases
(the local SQLite file) add it as usual.
"""

import django.db.models.functions.text
import django.db.models.lookups
from django.contrib.postgres.operations import AddConstraintNotValid
from django.db import migrations, models
from django.db.migrations.operations import AddConstraint


class AddConstraintForNewRows(AddConstraintNotValid):
    """NOT VALID on PostgreSQL; a plain AddConstraint on any other database."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            AddConstraint.database_forwards(self, app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [
        ("posts", "0004_counter_triggers_truncate_and_moves"),
    ]

    operations = [
        migrations.AlterField(
            model_name="post",
            name="content",
            field=models.TextField(max_length=20000),
        ),
        AddConstraintForNewRows(
            model_name="post",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(
                    django.db.models.functions.text.Length("content"), 20000
                ),
                name="posts_post_content_max_length",
                violation_error_message="Ensure this field has no more than 20000 characters.",
            ),
        ),
    ]
