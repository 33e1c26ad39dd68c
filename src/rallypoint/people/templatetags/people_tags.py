from django import template

from ..normalize import display_phone

register = template.Library()

AUDIT_LABELS = {
    "person.updated": "edited the record",
    "person.tag.added": "added a tag",
    "person.tag.removed": "removed a tag",
    "person.merged": "merged another record into this one",
    "person.contact.added": "added contact details",
    "person.email.status": "changed an email status",
    "person.kept_aside": "received a public submission with details that were not applied",
}


@register.filter
def phone(value: str) -> str:
    return display_phone(value or "")


@register.filter
def audit_label(action: str) -> str:
    return AUDIT_LABELS.get(action, action)


@register.filter
def changes(data: dict) -> list[tuple[str, object, object]]:
    """(field, before, after) rows from an audit entry's data, for a small before/after table."""
    before, after = (data or {}).get("before") or {}, (data or {}).get("after") or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    keys = list(dict.fromkeys([*before, *after]))
    return [(key.replace("_", " "), before.get(key, ""), after.get(key, "")) for key in keys]


@register.filter
def kept_aside(data: dict) -> list[tuple[str, str]]:
    """(field, value) rows of what a public submission said that was kept off the record."""
    kept = (data or {}).get("kept_aside") or {}
    if not isinstance(kept, dict):
        return []
    rows = []
    for key, value in kept.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        rows.append((key.replace("_", " "), str(value)))
    return rows
