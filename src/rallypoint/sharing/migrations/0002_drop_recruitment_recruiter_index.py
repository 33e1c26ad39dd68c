"""Recruitment.recruiter leads the (recruiter, campaign) index: its own index only costs writes."""

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
        ("sharing", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                drop_index(
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
