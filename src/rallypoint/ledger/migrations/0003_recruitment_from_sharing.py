"""Recruitment edges are written with the act that makes them, so the model joins the ledger.

Only the project state changes: the table keeps its name (sharing_recruitment), its rows, its
index and its constraints. sharing's 0003 removes the model from sharing's state and moves its
content type here."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0002_drop_activity_fk_indexes_covered_by_composites"),
        ("sharing", "0002_drop_recruitment_recruiter_index"),
        ("mission", "0003_goal_segment"),
        ("people", "0002_drop_redundant_and_like_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Recruitment",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("channel", models.CharField(blank=True, max_length=20)),
                        ("created_at", models.DateTimeField(db_index=True)),
                        (
                            "campaign",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="recruitments",
                                to="mission.campaign",
                            ),
                        ),
                        (
                            "recruit",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="recruited_by",
                                to="people.person",
                            ),
                        ),
                        (
                            "recruiter",
                            models.ForeignKey(
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="recruits",
                                to="people.person",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "sharing_recruitment",
                        "ordering": ["-created_at"],
                        "indexes": [
                            models.Index(
                                fields=["recruiter", "campaign"],
                                name="sharing_rec_recruit_ea2858_idx",
                            )
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("campaign__isnull", False)),
                                fields=("recruit", "campaign"),
                                name="recruit_once_per_campaign",
                            ),
                            models.UniqueConstraint(
                                condition=models.Q(("campaign__isnull", True)),
                                fields=("recruit",),
                                name="recruit_once_without_campaign",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("recruiter", models.F("recruit")), _negated=True
                                ),
                                name="no_self_recruit",
                            ),
                        ],
                    },
                ),
            ],
        ),
    ]
