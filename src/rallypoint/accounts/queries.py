from django.db.models import QuerySet

from .models import User


def users_search(q: str = "") -> QuerySet[User]:
    """Accounts for the team page, with their person joined in."""
    users = User.objects.select_related("person").order_by("email")
    q = (q or "").strip()
    if q:
        users = users.filter(email__icontains=q)
    return users
