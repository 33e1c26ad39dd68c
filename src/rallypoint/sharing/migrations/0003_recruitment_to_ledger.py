"""The Recruitment model now lives in the ledger (ledger's 0003): only the project state changes,
the table and its rows stay. The content type follows the model, so anything that points at a
recruitment through it (permissions, generic relations) keeps pointing at it."""

from django.db import migrations


def content_type_to(app_label: str, other: str):
    def move(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        db = schema_editor.connection.alias
        if ContentType.objects.using(db).filter(app_label=app_label, model="recruitment").exists():
            return
        ContentType.objects.using(db).filter(app_label=other, model="recruitment").update(
            app_label=app_label
        )

    return move


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("sharing", "0002_drop_recruitment_recruiter_index"),
        ("ledger", "0003_recruitment_from_sharing"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="Recruitment")],
        ),
        migrations.RunPython(
            content_type_to("ledger", "sharing"), content_type_to("sharing", "ledger")
        ),
    ]
