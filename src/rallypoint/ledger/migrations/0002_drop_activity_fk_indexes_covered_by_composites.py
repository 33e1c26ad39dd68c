"""Activity's person, campaign, referrer and target_type lead the composite indexes
(person, -created_at), (campaign, kind, created_at), (referrer, campaign) and
(target_type, target_id): their single-column indexes only cost writes."""

import django.db.models.deletion
from django.db import migrations, models

from rallypoint.core.migration_ops import drop_index_only


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                drop_index_only(
                    "ledger_activity", "campaign_id", "ledger_activity_campaign_id_60bb53bb"
                ),
                drop_index_only("ledger_activity", "person_id", "ledger_activity_person_id_b72c1840"),
                drop_index_only(
                    "ledger_activity", "referrer_id", "ledger_activity_referrer_id_b89bffd5"
                ),
                drop_index_only(
                    "ledger_activity", "target_type_id", "ledger_activity_target_type_id_708c07fc"
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="activity",
                    name="campaign",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="activities",
                        to="mission.campaign",
                    ),
                ),
                migrations.AlterField(
                    model_name="activity",
                    name="person",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="activities",
                        to="people.person",
                    ),
                ),
                migrations.AlterField(
                    model_name="activity",
                    name="referrer",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="referred_activities",
                        to="people.person",
                    ),
                ),
                migrations.AlterField(
                    model_name="activity",
                    name="target_type",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="contenttypes.contenttype",
                    ),
                ),
            ],
        ),
    ]
