"""Event descriptions (and day-of-action templates' descriptions) are rich text now: sanitised
HTML written by the editor, shown as it is. Those stored before were plain text, shown escaped
with their line breaks: each becomes the HTML that shows the same (escaped text, a paragraph per
blank-line block, <br> for a line break), so nothing reads differently. Going back turns the
HTML into plain text again.

The conversion is frozen here (not imported), so later changes to the app's helpers never
change what this migration did."""

import html
import re

from django.db import migrations

BATCH = 500
_TAG = re.compile(r"<[^>]*>")


def _paragraphs(text: str) -> str:
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in block.split("\n")) + "</p>"
        for block in blocks
    )


def _plain(markup: str) -> str:
    text = re.sub(r"<br\s*/?>", "\n", markup or "", flags=re.IGNORECASE)
    text = re.sub(r"</p\s*>", "\n\n", text, flags=re.IGNORECASE)
    return html.unescape(_TAG.sub("", text)).strip()


def _convert(apps, model: str, convert) -> None:
    Model = apps.get_model("events", model)
    rows = Model.objects.exclude(description="").only("pk", "description").order_by("pk")
    changed = []
    for row in rows.iterator(chunk_size=BATCH):
        row.description = convert(row.description)
        changed.append(row)
        if len(changed) == BATCH:
            Model.objects.bulk_update(changed, ["description"])
            changed = []
    if changed:
        Model.objects.bulk_update(changed, ["description"])


def forwards(apps, schema_editor):
    _convert(apps, "Event", _paragraphs)
    _convert(apps, "EventTemplate", _paragraphs)


def backwards(apps, schema_editor):
    _convert(apps, "Event", _plain)
    _convert(apps, "EventTemplate", _plain)


class Migration(migrations.Migration):
    dependencies = [("events", "0006_event_templates")]

    operations = [migrations.RunPython(forwards, backwards)]
