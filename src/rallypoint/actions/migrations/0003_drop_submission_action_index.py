"""Submission.action leads the (action, counted, created_at) index: its own index only costs writes."""

import django.db.models.deletion
from django.db import migrations, models

from rallypoint.core.migration_ops import drop_index_only


class Migration(migrations.Migration):
    dependencies = [
        ("actions", "0002_remove_action_share_text"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                drop_index_only(
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
