"""The audit log: one call per organizer change, with before/after data."""

from typing import Any

from django.db import models

from .models import AuditEntry


def log_action(
    action: str, *, obj: models.Model, actor: Any = None, data: dict[str, Any] | None = None
) -> AuditEntry:
    """Record `action` (e.g. "person.tag.added") on `obj` by `actor` (a User or None)."""
    return AuditEntry.objects.create(
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        data=data or {},
    )


def audit_entries_for(obj: models.Model):
    return AuditEntry.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).select_related("actor")
