"""Reads of the people layer, with the joins every list needs already in place."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from rallypoint.core.audit import audit_entries_for

from .models import EmailAddress, EmailStatus, Person, PhoneNumber, PostalAddress, Tag, Tagging
from .normalize import clean_phone
from .referral import OWN_CODE_SESSION_KEY


def people_with_contacts() -> QuerySet[Person]:
    return Person.objects.prefetch_related(
        Prefetch("email_addresses", queryset=EmailAddress.objects.order_by("-primary", "id")),
        Prefetch("phone_numbers", queryset=PhoneNumber.objects.order_by("-primary", "id")),
        Prefetch("postal_addresses", queryset=PostalAddress.objects.order_by("-primary", "id")),
        Prefetch("taggings", queryset=Tagging.objects.select_related("tag").order_by("tag__name")),
    )


# The people list's sortable columns: ?sort=<key> (a leading "-" reverses).
PEOPLE_SORTS = {
    "joined": ("created_at", "id"),
    "name": ("family_name", "given_name", "id"),
    "first_name": ("given_name", "family_name", "id"),
}


def people_order(sort: str) -> tuple[str, ...]:
    """The ORDER BY of a sort key; unknown keys give the default, newest first."""
    key = (sort or "").lstrip("-")
    if key not in PEOPLE_SORTS:
        return ("-created_at", "-id")
    fields = PEOPLE_SORTS[key]
    return tuple(f"-{f}" for f in fields) if sort.startswith("-") else fields


def people_search(
    q: str = "", *, tag: str = "", postal_code: str = "", region: str = "", sort: str = ""
) -> QuerySet[Person]:
    """People matching a free-text search and filters, contacts prefetched, newest first
    unless `sort` names a column (PEOPLE_SORTS).

    Each condition is a subquery on one table (no joins, so no DISTINCT): an address with "@"
    is looked up as a prefix on the indexed matching key, a full phone number exactly in E.164,
    and other text as part of a name or email."""
    qs = people_with_contacts()
    q = " ".join((q or "").split())
    if q:
        qs = qs.filter(_text_condition(q))
    if tag.strip():
        taggings = Tagging.objects.filter(tag__name__iexact=tag.strip())
        qs = qs.filter(pk__in=taggings.values("person_id"))
    if postal_code.strip():
        code = postal_code.strip().upper()
        qs = qs.filter(
            pk__in=PostalAddress.objects.filter(postal_code__startswith=code).values("person_id")
        )
    if region.strip():
        qs = qs.filter(
            pk__in=PostalAddress.objects.filter(region__iexact=region.strip()).values("person_id")
        )
    return qs.order_by(*people_order(sort))


def _persons(rows: QuerySet) -> Q:
    return Q(pk__in=rows.values("person_id"))


def _text_condition(q: str) -> Q:
    lowered = q.lower()
    if "@" in q and not q.startswith("@"):
        # A range on the unique matching key is a prefix search that uses its index.
        return _persons(
            EmailAddress.objects.filter(
                address_normalized__gte=lowered, address_normalized__lt=lowered + "\U0010ffff"
            )
        )
    digits = "".join(ch for ch in q if ch.isdigit())
    if len(digits) >= 4 and not any(ch.isalpha() for ch in q):
        if len(digits) >= 10:
            try:
                number, _ = clean_phone(q)
            except ValidationError:
                pass
            else:
                return _persons(PhoneNumber.objects.filter(number=number))
        return _persons(PhoneNumber.objects.filter(number__contains=digits))
    cond = (
        Q(given_name__icontains=q)
        | Q(family_name__icontains=q)
        | _persons(EmailAddress.objects.filter(address_normalized__icontains=lowered))
    )
    parts = q.split(" ")
    if len(parts) >= 2:
        cond |= Q(given_name__icontains=parts[0], family_name__icontains=" ".join(parts[1:]))
    return cond


def people_stats() -> dict[str, int]:
    week_ago = timezone.now() - timedelta(days=7)
    return {
        "people": Person.objects.count(),
        "joined_7d": Person.objects.filter(created_at__gte=week_ago).count(),
        "subscribed": EmailAddress.objects.filter(status=EmailStatus.SUBSCRIBED).count(),
    }


def person_for_page(pk: int) -> Person | None:
    """One person with everything the person page shows (contacts, tags, their account)."""
    return people_with_contacts().select_related("account").filter(pk=pk).first()


def person_history(person: Person, *, limit: int = 100) -> QuerySet:
    """The audit log of changes to this person, newest first, with who made each one."""
    return audit_entries_for(person)[:limit]


def tag_names(*, limit: int = 500) -> list[str]:
    """Known tag names, most used first (for suggestions when tagging)."""
    return list(
        Tag.objects.annotate(uses=Count("taggings"))
        .order_by("-uses", "name")
        .values_list("name", flat=True)[:limit]
    )


def merge_candidates(person: Person, q: str, *, limit: int = 10) -> QuerySet[Person]:
    if not (q or "").strip():
        return Person.objects.none()
    return people_search(q).exclude(pk=person.pk)[:limit]


def person_by_share_code(code: str) -> Person | None:
    """Whose share link brought this visitor (for "Ana R. invited you")."""
    if not code:
        return None
    return (
        Person.objects.filter(share_code=code)
        .only("given_name", "family_name", "public_display")
        .first()
    )


def visitor_person(request) -> Person | None:
    """The supporter behind this visit, when they proved who they are: the person of their login,
    or the person whose dashboard link (emailed to them) opened this session. Never someone
    whose address was merely typed into a form."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and getattr(user, "person_id", None):
        return user.person
    session = getattr(request, "session", None)
    code = session.get(OWN_CODE_SESSION_KEY) if session is not None else None
    if not isinstance(code, str) or not code:
        return None
    return Person.objects.filter(share_code=code).first()


def session_remember(request, key: str, pk: int, *, keep: int = 50) -> None:
    """Remember in the visitor's session a record this session itself created (an RSVP, a
    membership), so the pages can show it back to them: "You're going", "You're a member"."""
    ids = [i for i in request.session.get(key, []) if isinstance(i, int) and i != pk]
    request.session[key] = [pk, *ids][:keep]


def session_remembered(request, key: str) -> list[int]:
    session = getattr(request, "session", None)
    ids = session.get(key, []) if session is not None else []
    return [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else []
