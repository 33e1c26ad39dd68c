"""Reads for groups: find near me, the group page, the leaderboard."""

from django.db.models import Count, F, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from rallypoint.core.geo import lookup_postal_code
from rallypoint.events.geoquery import within_radius
from rallypoint.ledger.models import Activity
from rallypoint.people.models import Person

from .models import Group, GroupStatus, MemberRole, Membership, MemberStatus


def groups_with_counts(qs: QuerySet | None = None) -> QuerySet[Group]:
    qs = Group.objects.all() if qs is None else qs
    return qs.annotate(
        member_count=Count("memberships", filter=Q(memberships__status=MemberStatus.ACTIVE))
    )


def active_groups() -> QuerySet[Group]:
    return groups_with_counts(Group.objects.filter(status=GroupStatus.ACTIVE))


def groups_near(postal_code: str, radius_km: float) -> tuple[QuerySet[Group] | None, str]:
    """Active groups whose centre is within `radius_km` of the postal code, nearest first.
    Returns (queryset, error message)."""
    place = lookup_postal_code(postal_code)
    if place is None:
        return None, f"We don't know the postal code “{postal_code}”."
    qs = within_radius(active_groups(), place.latitude, place.longitude, radius_km)
    return qs.order_by("distance_km", "name"), ""


def group_by_slug(slug: str) -> Group | None:
    return groups_with_counts().filter(slug=slug).select_related("campaign", "merged_into").first()


def group_members(group: Group, status: str = MemberStatus.ACTIVE) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(group=group, status=status)
        .select_related("person")
        .prefetch_related("person__email_addresses")
        .order_by("-role", "person__given_name", "person__family_name", "id")
    )


def group_leaders(group: Group) -> QuerySet[Membership]:
    return group_members(group).filter(role=MemberRole.LEADER)


def active_member_people(group: Group) -> QuerySet[Person]:
    return Person.objects.filter(
        group_memberships__group=group, group_memberships__status=MemberStatus.ACTIVE
    ).prefetch_related("email_addresses")


def group_leaderboard(group: Group, limit: int = 10) -> list[dict]:
    """Members ranked by their ledger points (all their acts, not only the group's)."""
    rows = (
        Activity.objects.filter(
            person__group_memberships__group=group,
            person__group_memberships__status=MemberStatus.ACTIVE,
        )
        .values("person_id", "person__given_name", "person__family_name", "person__public_display")
        .annotate(points=Sum("points"))
        .order_by("-points", "person_id")[:limit]
    )
    board = []
    for row in rows:
        person = Person(
            given_name=row["person__given_name"],
            family_name=row["person__family_name"],
            public_display=row["person__public_display"],
        )
        board.append({"name": person.public_name, "points": row["points"]})
    return board


def group_upcoming_events(group: Group, limit: int = 10):
    from rallypoint.events.queries import listed_events

    return listed_events().filter(group=group, ends_at__gte=timezone.now())[:limit]


def groups_for_person(person: Person | None) -> QuerySet[Membership]:
    if person is None:
        return Membership.objects.none()
    return (
        Membership.objects.filter(person=person)
        .exclude(status=MemberStatus.LEFT)
        .select_related("group")
        .order_by("group__name")
    )


def organizer_groups(status: str = "", q: str = "") -> QuerySet[Group]:
    qs = groups_with_counts().annotate(
        leader_count=Count(
            "memberships",
            filter=Q(memberships__role=MemberRole.LEADER, memberships__status=MemberStatus.ACTIVE),
        )
    )
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(postal_code__startswith=q) | Q(region__iexact=q))
    return qs.order_by(F("status").desc(), "name")


def ways_to_help(campaign) -> list[dict]:
    groups = Group.objects.filter(status=GroupStatus.ACTIVE)
    if campaign is not None:
        groups = groups.filter(Q(campaign=campaign) | Q(campaign__isnull=True))
    return [
        {
            "title": "Join a local group",
            "url": reverse("groups:list"),
            "kind": "group_join",
            "blurb": "Find the team near you, meet your neighbours, and act together.",
            "count": groups.count(),
        }
    ]
