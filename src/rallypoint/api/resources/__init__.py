"""OSDI representations of records, by model: used by the API views, and registered in
ApiConfig.ready() as the outbox's subject renderers, which webhooks use (outside any request,
with links under SITE_URL)."""

from collections.abc import Callable
from typing import Any

from django.db import models

from ..hal import Links


def _person(person, links: Links) -> dict[str, Any]:
    from ..queries import api_people
    from .people import person_repr

    return person_repr(api_people().get(pk=person.pk), links)


def _tag(tag, links: Links) -> dict[str, Any]:
    from .tags import tag_repr

    return tag_repr(tag, links)


def _submission(submission, links: Links) -> dict[str, Any]:
    from ..queries import api_submissions
    from .actions import BY_KIND, submission_repr

    resource = BY_KIND[submission.action.kind]
    submission = api_submissions(kinds=resource.kinds).get(pk=submission.pk)
    return submission_repr(submission, resource, links)


def _rsvp(rsvp, links: Links) -> dict[str, Any]:
    from ..queries import api_attendances
    from .events import attendance_repr

    return attendance_repr(api_attendances().get(pk=rsvp.pk), links)


def _event(event, links: Links) -> dict[str, Any]:
    from ..queries import api_events
    from .events import event_repr

    return event_repr(api_events().get(pk=event.pk), links)


RENDERERS: dict[str, Callable[[Any, Links], dict[str, Any]]] = {
    "people.person": _person,
    "people.tag": _tag,
    "actions.submission": _submission,
    "events.rsvp": _rsvp,
    "events.event": _event,
}


def render_record(obj: models.Model, links: Links | None = None) -> dict[str, Any]:
    """The OSDI document for `obj` (a person, signature, attendance, …)."""
    renderer = RENDERERS.get(obj._meta.label_lower)
    if renderer is None:
        raise LookupError(f"No OSDI representation for {obj._meta.label}")
    return renderer(obj, links or Links.for_site())
