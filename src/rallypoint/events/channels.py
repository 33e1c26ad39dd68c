"""How reminders reach people. Email today; an SMS channel plugs in through the setting
EVENT_REMINDER_CHANNELS once the messaging tool can send texts to people who consented."""

from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from rallypoint.core.mail import email_queue
from rallypoint.people.models import Person

from .models import Rsvp, Shift


class ReminderChannel(Protocol):
    """`send` reminds of the event, or with `shift` of that shift of it (someone in shifts is
    reminded before each of theirs)."""

    name: str

    def reaches(self, person: Person) -> bool: ...

    def send(
        self, *, rsvp: Rsvp, minutes_before: int, dedupe_key: str, shift: Shift | None = None
    ) -> None: ...


def person_email(person: Person) -> str | None:
    """Where transactional mail (confirmations, reminders) goes: the primary address that is not
    bouncing or complaining. Unsubscribing from campaign mail does not stop these."""
    bad = {"bouncing", "spam complaint"}
    addresses = sorted(person.email_addresses.all(), key=lambda a: (not a.primary, a.id))
    for address in addresses:
        if address.status not in bad:
            return address.address
    return None


class EmailReminders:
    name = "email"

    def reaches(self, person: Person) -> bool:
        return person_email(person) is not None

    def send(
        self, *, rsvp: Rsvp, minutes_before: int, dedupe_key: str, shift: Shift | None = None
    ) -> None:
        from .services.notify import event_context

        to = person_email(rsvp.person)
        if to is None:
            return
        if shift is not None:
            shift.event = rsvp.event  # its times in the event's zone
        email_queue(
            to=to,
            template="events/email/reminder",
            context={
                **event_context(rsvp.event, rsvp),
                "minutes_before": minutes_before,
                "shift": shift,
            },
            dedupe_key=dedupe_key,
        )


def reminder_channels() -> list[ReminderChannel]:
    paths = getattr(
        settings, "EVENT_REMINDER_CHANNELS", ["rallypoint.events.channels.EmailReminders"]
    )
    return [import_string(path)() for path in paths]
