"""Recruitment.recruiter leads the (recruiter, campaign) index: its own index only costs writes."""

import django.db.models.deletion
from django.db import migrations, models

from rallypoint.core.migration_ops import drop_index_only


class Migration(migrations.Migration):
    dependencies = [
        ("sharing", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                drop_index_only(
                    "sharing_recruitment",
                    "recruiter_id",
                    "sharing_recruitment_recruiter_id_86a7202e",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="recruitment",
                    name="recruiter",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="recruits",
                        to="people.person",
                    ),
                ),
            ],
        ),
    ]
