"""Submission.action leads the (action, counted, created_at) index: its own index only costs writes."""

import django.db.models.deletion
from django.db import migrations, models

# AlterField(db_index=False) on a ForeignKey would also drop and re-add (and so re-validate
# against every row) the foreign-key constraint on PostgreSQL. Only the index has to go, and the
# index names Django gave these columns are the same on PostgreSQL and SQLite, so drop just that.


def drop_index(table, column, name):
    return migrations.RunSQL(
        f'DROP INDEX IF EXISTS "{name}"',
        reverse_sql=f'CREATE INDEX "{name}" ON "{table}" ("{column}")',
    )


class Migration(migrations.Migration):
    dependencies = [
        ("actions", "0002_remove_action_share_text"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                drop_index(
                    "actions_submission", "action_id", "actions_submission_action_id_1603188f"
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="submission",
                    name="action",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="submissions",
                        to="actions.action",
                    ),
                ),
            ],
        ),
    ]
