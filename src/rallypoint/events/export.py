"""The attendees of an event as CSV rows (the host's "Export attendees (CSV)"): everyone who
RSVP'd, going, waiting or cancelled, with contact details, shifts and answers."""

from collections.abc import Iterator

from rallypoint.core.downloads import safe_cell
from rallypoint.people.questions import answer_text

from .models import Event, Rsvp
from .queries import live_signups
from .when import shift_text


def attendee_rows(event: Event) -> Iterator[list[str]]:
    """The header, then one row per RSVP (oldest first), read in chunks."""
    questions = list(event.questions.all())
    yield [
        safe_cell(v)
        for v in [
            "status",
            "given_name",
            "family_name",
            "email",
            "phone",
            "guests",
            "shifts",
            "waiting_for_shifts",
            "checked_in",
            "walk_in",
            "comment",
            *[q.label for q in questions],
            "rsvp_at",
            "source",
            "person_uuid",
        ]
    ]
    rsvps = (
        Rsvp.objects.filter(event=event)
        .select_related("person")
        .prefetch_related("person__email_addresses", "person__phone_numbers", live_signups())
        .order_by("created_at", "id")
    )
    for rsvp in rsvps.iterator(chunk_size=1000):
        emails = sorted(rsvp.person.email_addresses.all(), key=lambda e: (not e.primary, e.pk))
        phones = sorted(rsvp.person.phone_numbers.all(), key=lambda p: (not p.primary, p.pk))
        signups = getattr(rsvp, "live_signups", [])  # queries.live_signups()
        going = [shift_text(s.shift) for s in signups if s.status == "accepted"]
        waiting = [shift_text(s.shift) for s in signups if s.status == "waitlisted"]
        yield [
            safe_cell(v)
            for v in [
                rsvp.get_status_display(),
                rsvp.person.given_name,
                rsvp.person.family_name,
                emails[0].address if emails else "",
                phones[0].number if phones else "",
                rsvp.guests,
                "; ".join(going),
                "; ".join(waiting),
                "yes" if rsvp.attended else "",
                "yes" if rsvp.walk_in else "",
                rsvp.comment,
                *[answer_text(rsvp.answers.get(str(q.pk))) for q in questions],
                rsvp.created_at.isoformat(),
                rsvp.source,
                rsvp.person.uuid,
            ]
        ]
