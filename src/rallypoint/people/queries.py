"""Reads of the people layer, with the joins every list needs already in place."""

from datetime import timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from rallypoint.core.audit import audit_entries_for
from rallypoint.ledger.models import Activity

from .models import EmailAddress, EmailStatus, Person, PhoneNumber, PostalAddress, Tag, Tagging


def people_with_contacts() -> QuerySet[Person]:
    return Person.objects.prefetch_related(
        Prefetch("email_addresses", queryset=EmailAddress.objects.order_by("-primary", "id")),
        Prefetch("phone_numbers", queryset=PhoneNumber.objects.order_by("-primary", "id")),
        Prefetch("postal_addresses", queryset=PostalAddress.objects.order_by("-primary", "id")),
        Prefetch("taggings", queryset=Tagging.objects.select_related("tag").order_by("tag__name")),
    )


def people_search(
    q: str = "", *, tag: str = "", postal_code: str = "", region: str = ""
) -> QuerySet[Person]:
    qs = people_with_contacts()
    q = (q or "").strip()
    if q:
        digits = "".join(ch for ch in q if ch.isdigit())
        cond = (
            Q(given_name__icontains=q)
            | Q(family_name__icontains=q)
            | Q(email_addresses__address_normalized__icontains=q.lower())
        )
        parts = q.split()
        if len(parts) >= 2:
            cond |= Q(given_name__icontains=parts[0], family_name__icontains=" ".join(parts[1:]))
        if len(digits) >= 4:
            cond |= Q(phone_numbers__number__contains=digits)
        qs = qs.filter(cond)
    if tag:
        qs = qs.filter(taggings__tag__name__iexact=tag.strip())
    if postal_code:
        qs = qs.filter(postal_addresses__postal_code__startswith=postal_code.strip())
    if region:
        qs = qs.filter(postal_addresses__region__iexact=region.strip())
    if q or tag or postal_code or region:
        qs = qs.distinct()
    return qs.order_by("-created_at", "-id")


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


def person_timeline(person: Person, *, limit: int = 50) -> QuerySet:
    """Their acts in the ledger, newest first, with the campaign and referrer already joined."""
    return (
        Activity.objects.filter(person=person)
        .select_related("campaign", "referrer")
        .order_by("-created_at", "-id")[:limit]
    )


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
