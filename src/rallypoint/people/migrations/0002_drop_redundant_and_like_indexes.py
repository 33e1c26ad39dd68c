"""Indexes the write path paid for and no query used:

- people_emailaddress.person_id: (person, primary) leads with it.
- the varchar_pattern_ops ("_like") indexes PostgreSQL gets for unique=True / db_index=True text
  columns, which only LIKE 'prefix%' lookups use: share_code and address_normalized are matched
  exactly (or by IN, or a >=/< range), region by IN or iexact. Uniqueness moves to
  Meta.constraints and region's plain index to Meta.indexes, which have no "_like" twin.
"""

import django.db.models.deletion
from django.db import migrations, models

import rallypoint.people.models
from rallypoint.core.migration_ops import drop_index_only


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                drop_index_only(
                    "people_emailaddress", "person_id", "people_emailaddress_person_id_4613d132"
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="emailaddress",
                    name="person",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="email_addresses",
                        to="people.person",
                    ),
                ),
            ],
        ),
        # The new unique constraint first, so the column is never without one.
        migrations.AddConstraint(
            model_name="emailaddress",
            constraint=models.UniqueConstraint(
                fields=("address_normalized",), name="email_address_normalized_unique"
            ),
        ),
        migrations.AlterField(
            model_name="emailaddress",
            name="address_normalized",
            field=models.CharField(max_length=254),
        ),
        migrations.AddConstraint(
            model_name="person",
            constraint=models.UniqueConstraint(
                fields=("share_code",), name="person_share_code_unique"
            ),
        ),
        migrations.AlterField(
            model_name="person",
            name="share_code",
            field=models.CharField(default=rallypoint.people.models.new_share_code, max_length=16),
        ),
        migrations.AddIndex(
            model_name="postaladdress",
            index=models.Index(fields=["region"], name="postaladdress_region"),
        ),
        migrations.AlterField(
            model_name="postaladdress",
            name="region",
            field=models.CharField(blank=True, max_length=100),
        ),
    ]
