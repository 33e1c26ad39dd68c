"""Deliveries logged before the guarded client kept up to 500 characters of any reply and the
text of socket errors (which tell an internal port's state apart): keep only what the log shows
now, a short excerpt and one fixed message."""

from django.db import migrations

EXCERPT_CHARS = 200  # rallypoint.core.http.EXCERPT_CHARS when this was written


def trim(apps, schema_editor):
    Delivery = apps.get_model("webhooks", "Delivery")
    long_answers = Delivery.objects.exclude(response_excerpt="").only("pk", "response_excerpt")
    for delivery in long_answers.iterator(chunk_size=500):
        if len(delivery.response_excerpt) > EXCERPT_CHARS:
            Delivery.objects.filter(pk=delivery.pk).update(
                response_excerpt=delivery.response_excerpt[:EXCERPT_CHARS]
            )
    Delivery.objects.filter(error__startswith="Could not reach the receiver:").update(
        error="Could not reach the receiver."
    )


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial")]
    operations = [migrations.RunPython(trim, migrations.RunPython.noop)]
