"""Join links are web addresses only. Any stored before that was enforced everywhere (through
the API, a `javascript:` link could be saved) are blanked; hosts add a new one."""

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import migrations


def blank_unsafe_join_urls(apps, schema_editor):
    Event = apps.get_model("events", "Event")
    check = URLValidator(schemes=["http", "https"])
    unsafe = []
    for pk, url in Event.objects.exclude(join_url="").values_list("pk", "join_url").iterator():
        try:
            check(url)
        except ValidationError:
            unsafe.append(pk)
    for start in range(0, len(unsafe), 500):
        Event.objects.filter(pk__in=unsafe[start : start + 500]).update(join_url="")


class Migration(migrations.Migration):
    dependencies = [("events", "0003_event_listed_online")]

    operations = [migrations.RunPython(blank_unsafe_join_urls, migrations.RunPython.noop)]
