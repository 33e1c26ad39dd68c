from django.db.models import QuerySet

from rallypoint.core.models import AuditEntry

from .models import User


def users_search(q: str = "") -> QuerySet[User]:
    """Accounts for the team page, with their person joined in."""
    users = User.objects.select_related("person").order_by("email")
    q = (q or "").strip()
    if q:
        users = users.filter(email__icontains=q)
    return users


def role_changes(*, limit: int = 10) -> QuerySet[AuditEntry]:
    """The latest role changes, with who made them (the team page shows them)."""
    return AuditEntry.objects.filter(action="user.role.changed").select_related("actor")[:limit]
