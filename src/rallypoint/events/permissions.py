"""Who may see and run an event. Services and views ask the same questions here."""

from typing import Any

from django.core.exceptions import PermissionDenied

from rallypoint.people.models import Person
from rallypoint.people.queries import visitor_person

from .hooks import event_groups
from .models import Approval, Event, EventHost, Rsvp, RsvpStatus, Visibility


def person_for(user: Any) -> Person | None:
    """The supporter record behind a login (linked on first use), or None when anonymous. An
    actor may also be a Person already (a host proven by their dashboard link)."""
    if isinstance(user, Person):
        return user
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if user.person_id is None:
        from rallypoint.accounts.services import account_link_person

        account_link_person(user=user)
    return user.person


def person_of(user: Any) -> Person | None:
    """The supporter record behind a login, without creating one (for pages that only read)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.person


def is_organizer(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_organizer", False))


def is_host(person: Person | None, event: Event) -> bool:
    if person is None:
        return False
    return EventHost.objects.filter(event=event, person=person).exists()


def visit_actor(request: Any) -> Any:
    """Who acts in this request: the login, else the person proven by their dashboard link (a
    supporter who hosts without a password), else None."""
    if request.user.is_authenticated:
        return request.user
    return visitor_person(request)


def can_manage(user: Any, event: Event) -> bool:
    """`user`: a login, or a Person proven by their dashboard link (see visit_actor)."""
    if isinstance(user, Person):
        return is_host(user, event)
    if is_organizer(user):
        return True
    person = getattr(user, "person", None) if getattr(user, "is_authenticated", False) else None
    return is_host(person, event)


def require_manager(user: Any, event: Event) -> None:
    if not can_manage(user, event):
        raise PermissionDenied("Only the event's hosts and organizers can do that.")


def can_view(user: Any, event: Event) -> bool:
    """Public and unlisted events are open to anyone with the link once approved; private ones
    to hosts, organizers, people with an RSVP, and members of the hosting group."""
    if can_manage(user, event):
        return True
    if event.approval != Approval.APPROVED:
        return False
    if event.visibility != Visibility.PRIVATE:
        return True
    if isinstance(user, Person):
        person: Person | None = user
    else:
        authenticated = getattr(user, "is_authenticated", False)
        person = getattr(user, "person", None) if authenticated else None
    if person is None:
        return False
    if (
        Rsvp.objects.filter(event=event, person=person)
        .exclude(status=RsvpStatus.CANCELLED)
        .exists()
    ):
        return True
    if event.group_id:
        return event_groups().is_member(person, event.group)
    return False
