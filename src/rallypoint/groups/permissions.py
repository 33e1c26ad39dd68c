"""Who leads and who belongs to a group."""

from typing import Any

from django.core.exceptions import PermissionDenied

from rallypoint.people.models import Person

from .models import Group, MemberRole, Membership, MemberStatus


def membership_for(person: Person | None, group: Group) -> Membership | None:
    if person is None:
        return None
    return Membership.objects.filter(group=group, person=person).first()


def is_member(person: Person | None, group: Group) -> bool:
    if person is None:
        return False
    return Membership.objects.filter(
        group=group, person=person, status=MemberStatus.ACTIVE
    ).exists()


def is_leader(person: Person | None, group: Group) -> bool:
    if person is None:
        return False
    return Membership.objects.filter(
        group=group, person=person, status=MemberStatus.ACTIVE, role=MemberRole.LEADER
    ).exists()


def can_lead(user: Any, group: Group) -> bool:
    if getattr(user, "is_authenticated", False) and getattr(user, "is_organizer", False):
        return True
    person = getattr(user, "person", None) if getattr(user, "is_authenticated", False) else None
    return is_leader(person, group)


def require_leader(user: Any, group: Group) -> None:
    if not can_lead(user, group):
        raise PermissionDenied("Only the group's leaders can do that.")


def require_organizer(user: Any) -> None:
    if not (getattr(user, "is_authenticated", False) and getattr(user, "is_organizer", False)):
        raise PermissionDenied("Only organizers can do that.")


class _EventGroups:
    """What events ask about the group an event belongs to (events.hooks)."""

    def by_slug(self, slug: str) -> Group | None:
        return Group.objects.filter(slug=slug).first()

    def is_member(self, person: Person | None, group: Group) -> bool:
        return is_member(person, group)

    def is_leader(self, person: Person | None, group: Group) -> bool:
        return is_leader(person, group)


EVENT_GROUPS = _EventGroups()
