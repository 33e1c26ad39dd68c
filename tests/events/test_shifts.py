"""Shifts: time slots of an event, each with its own capacity and waitlist, given through the
one RSVP write (rsvps_write) with each picked shift's row locked once per group."""

import re
from datetime import timedelta

import icalendar
import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rallypoint.core.models import AuditEntry
from rallypoint.events.models import Event, Rsvp, Shift, ShiftSignup
from rallypoint.events.services import (
    EventData,
    ShiftData,
    event_create,
    event_update,
    rsvp_cancel,
    rsvp_check,
    rsvp_create,
    rsvps_record,
)
from rallypoint.ledger.models import Activity
from rallypoint.people.services import PersonData
from tests.events.factories import EventFactory, ShiftFactory, person_with_email

pytestmark = pytest.mark.django_db(transaction=True)

LOCK = re.compile(r"\bFOR (NO KEY )?UPDATE\b")


def two_shifts(**event_kwargs):
    """An event of two hours with two one-hour shifts: 2 places in the first, 1 in the second."""
    event = EventFactory(title="Phone bank", **event_kwargs)
    first = ShiftFactory(event=event, capacity=2)
    second = ShiftFactory(event=event, starts_at=first.ends_at, ends_at=event.ends_at, capacity=1)
    return event, first, second


def rsvp(event, email, shifts, **options):
    return rsvp_create(
        event=event,
        person_data=PersonData(email=email, given_name=email.split("@")[0].title()),
        shifts=shifts,
        **options,
    )


def places(rsvp_row):
    return sorted((s.shift_id, s.status) for s in ShiftSignup.objects.filter(rsvp=rsvp_row))


def test_rsvp_with_shifts_gets_a_place_in_each_and_counts_once_for_the_event():
    event, first, second = two_shifts()
    ana = rsvp(event, "ana@example.org", [first.pk, second.pk], guests=0)
    assert ana.status == "accepted"
    assert places(ana) == [(first.pk, "accepted"), (second.pk, "accepted")]
    first.refresh_from_db(), second.refresh_from_db(), event.refresh_from_db()
    assert (first.seats_taken, second.seats_taken, event.seats_taken) == (1, 1, 1)
    assert Activity.objects.filter(kind="rsvp").count() == 1


def test_full_shift_puts_people_on_its_own_waitlist_and_the_rsvp_is_going_in_the_other():
    event, first, second = two_shifts()
    rsvp(event, "ana@example.org", [second.pk])
    ben = rsvp(event, "ben@example.org", [first.pk, second.pk])
    assert ben.status == "accepted"
    assert places(ben) == [(first.pk, "accepted"), (second.pk, "waitlisted")]


def test_rsvp_waiting_in_every_picked_shift_is_on_the_waitlist_without_an_act():
    event, first, second = two_shifts()
    rsvp(event, "ana@example.org", [second.pk])
    ben = rsvp(event, "ben@example.org", [str(second.pk)])
    assert ben.status == "waitlisted"
    event.refresh_from_db()
    assert event.seats_taken == 1
    assert Activity.objects.filter(kind="rsvp", person=ben.person).count() == 0
    assert ("ben@example.org", "You're on the waitlist: Phone bank") in [
        (m.to[0], m.subject) for m in mail.outbox
    ]


def test_guests_count_in_each_shift():
    event, first, second = two_shifts()
    with pytest.raises(ValidationError) as caught:
        second.waitlist_enabled = False
        second.save()
        rsvp(event, "ana@example.org", [second.pk], guests=1)
    assert "is full" in caught.value.message_dict["shifts"][0]
    ana = rsvp(event, "ana@example.org", [first.pk], guests=1)
    first.refresh_from_db()
    assert (ana.status, first.seats_taken) == ("accepted", 2)
    assert Rsvp.objects.count() == 1


def test_cancel_moves_the_next_person_up_from_the_shift_waitlist_and_emails_them():
    event, first, second = two_shifts()
    ana = rsvp(event, "ana@example.org", [second.pk])
    ben = rsvp(event, "ben@example.org", [second.pk])
    assert ben.status == "waitlisted"
    mail.outbox.clear()
    rsvp_cancel(rsvp=ana)
    ben.refresh_from_db(), second.refresh_from_db(), event.refresh_from_db()
    assert ben.status == "accepted"
    assert places(ben) == [(second.pk, "accepted")]
    assert places(ana) == [(second.pk, "cancelled")]
    assert (second.seats_taken, event.seats_taken) == (1, 1)
    act = Activity.objects.get(kind="rsvp", person=ben.person)
    assert act.details["from_waitlist"] is True
    assert [(m.to[0], m.subject) for m in mail.outbox] == [
        ("ben@example.org", f"A spot opened up — you're going to {event.title}")
    ]
    assert "a spot opened up in the shift" in mail.outbox[0].body


def test_cancel_in_one_shift_lets_in_someone_already_going_in_another_without_a_second_act():
    event, first, second = two_shifts()
    ana = rsvp(event, "ana@example.org", [second.pk])
    ben = rsvp(event, "ben@example.org", [first.pk, second.pk])
    rsvp_cancel(rsvp=ana)
    assert places(ben) == [(first.pk, "accepted"), (second.pk, "accepted")]
    event.refresh_from_db()
    assert event.seats_taken == 1  # Ben counts once however many shifts he is in
    assert Activity.objects.filter(kind="rsvp", person=ben.person).count() == 1


def test_waitlist_of_an_event_ignores_people_waiting_for_shifts(settings):
    event, first, second = two_shifts()
    rsvp(event, "ana@example.org", [second.pk])
    ben = rsvp(event, "ben@example.org", [second.pk])
    walk_in = rsvp_create(event=event, person_data=PersonData(email="cy@example.org"), walk_in=True)
    rsvp_cancel(rsvp=walk_in)  # frees an event seat, but Ben waits for the shift
    ben.refresh_from_db()
    assert ben.status == "waitlisted"


@pytest.mark.parametrize(
    ("picked", "message"),
    [
        ([], "Pick at least one shift."),
        (["abc"], "Pick shifts from the list."),
        ([999999], "A shift you picked isn't on this event any more. Pick again."),
        (["<script>"], "Pick shifts from the list."),
    ],
)
def test_rsvp_shift_choice_is_checked_with_a_clear_message(picked, message):
    event, _, _ = two_shifts()
    with pytest.raises(ValidationError) as caught:
        rsvp(event, "ana@example.org", picked)
    assert caught.value.message_dict == {"shifts": [message]}
    assert Rsvp.objects.count() == 0


def test_shift_of_another_event_is_refused():
    event, _, _ = two_shifts()
    other = ShiftFactory(capacity=5)
    with pytest.raises(ValidationError) as caught:
        rsvp(event, "ana@example.org", [other.pk])
    assert "isn't on this event" in caught.value.message_dict["shifts"][0]


def test_event_without_shifts_refuses_a_shift_and_works_as_before():
    event = EventFactory(capacity=1)
    with pytest.raises(ValidationError):
        rsvp(event, "ana@example.org", [1])
    assert rsvp(event, "ana@example.org", None).status == "accepted"
    assert rsvp(event, "ben@example.org", None).status == "waitlisted"
    assert ShiftSignup.objects.count() == 0


def test_walk_in_needs_no_shift_and_may_go_over_a_shift_capacity():
    event, first, _ = two_shifts()
    rsvp(event, "ana@example.org", [first.pk], guests=1)
    walk_in = rsvp_create(
        event=event,
        person_data=PersonData(email="cy@example.org"),
        walk_in=True,
        attended=True,
        shifts=[first.pk],
    )
    first.refresh_from_db()
    assert (walk_in.status, first.seats_taken) == ("accepted", 3)
    alone = rsvp_create(event=event, person_data=PersonData(email="di@example.org"), walk_in=True)
    assert (alone.status, places(alone)) == ("accepted", [])


def test_group_write_locks_events_then_shifts_once_and_inserts_places_in_one_statement():
    event, first, second = two_shifts()
    group = [
        rsvp_check(
            event=event,
            person_data=PersonData(email=f"p{i}@example.org"),
            shifts=[first.pk, second.pk],
        )
        for i in range(4)
    ]
    with CaptureQueriesContext(connection) as captured:
        results = rsvps_record(group)
    sqls = [q["sql"] for q in captured.captured_queries]
    write = sqls[: sqls.index("COMMIT")]
    shift_selects = [s for s in write if s.startswith("SELECT") and 'FROM "events_shift"' in s]
    assert len(shift_selects) == 1
    if connection.vendor == "postgresql":
        assert all(LOCK.search(s) for s in shift_selects)
    inserts = [s for s in write if s.startswith('INSERT INTO "events_shiftsignup"')]
    assert len(inserts) == 1
    assert [r.rsvp.status for r in results] == ["accepted", "accepted", "waitlisted", "waitlisted"]
    assert [places(r.rsvp) for r in results][1] == [
        (first.pk, "accepted"),
        (second.pk, "waitlisted"),
    ]
    first.refresh_from_db(), second.refresh_from_db(), event.refresh_from_db()
    assert (first.seats_taken, second.seats_taken, event.seats_taken) == (2, 1, 2)


def test_rsvp_again_after_cancel_picks_shifts_afresh():
    event, first, second = two_shifts()
    ana = rsvp(event, "ana@example.org", [first.pk])
    rsvp_cancel(rsvp=ana)
    again = rsvp(event, "ana@example.org", [first.pk, second.pk])
    assert again.pk == ana.pk
    assert places(again) == [(first.pk, "accepted"), (second.pk, "accepted")]
    first.refresh_from_db()
    assert first.seats_taken == 1


def test_existing_rsvp_is_returned_unchanged_whatever_shifts_are_sent():
    event, first, second = two_shifts()
    ana = rsvp(event, "ana@example.org", [first.pk])
    same = rsvp(event, "ana@example.org", [second.pk])
    assert same.pk == ana.pk
    assert places(same) == [(first.pk, "accepted")]


def test_confirmation_names_the_shifts_and_its_calendar_has_one_entry_per_shift():
    event, first, second = two_shifts()
    rsvp(event, "ana@example.org", [first.pk, second.pk])
    message = mail.outbox[-1]
    assert "Your shifts:" in message.body
    assert message.body.count("\n- ") == 2
    ics = next(a for a in message.attachments if a[0] == "event.ics")[1]
    entries = list(icalendar.Calendar.from_ical(ics).walk("VEVENT"))
    assert sorted(e.decoded("dtstart") for e in entries) == [
        first.starts_at.replace(microsecond=0),
        second.starts_at.replace(microsecond=0),
    ]
    assert all("Your shift:" in str(e.get("description")) for e in entries)


# --- hosts setting shifts ----------------------------------------------------------------


def event_data(event: Event, **overrides) -> EventData:
    data = EventData.from_event(event)
    for name, value in overrides.items():
        setattr(data, name, value)
    return data


def host_of(event):
    from tests.events.factories import EventHostFactory
    from tests.factories import UserFactory

    person = person_with_email()
    EventHostFactory(event=event, person=person)
    return UserFactory(person=person)


def test_event_create_with_shifts_and_the_capacity_rule():
    start = EventFactory.build().starts_at
    data = EventData(
        title="Canvass",
        starts_at=start,
        ends_at=start + timedelta(hours=4),
        timezone="America/Denver",
        postal_code="80202",
        capacity=10,
    )
    rows = [
        ShiftData(starts_at=start, ends_at=start + timedelta(hours=2), capacity=5),
        ShiftData(starts_at=start + timedelta(hours=2), ends_at=start + timedelta(hours=4)),
    ]
    with pytest.raises(ValidationError) as caught:
        event_create(data=data, host=person_with_email(), shifts=rows)
    assert caught.value.message_dict == {
        "capacity": [
            "With shifts, each shift has its own capacity: leave the event's capacity empty."
        ]
    }
    data.capacity = None
    event = event_create(data=data, host=person_with_email(), shifts=rows)
    assert [(s.capacity, s.starts_at) for s in event.shifts.all()] == [
        (5, start),
        (None, start + timedelta(hours=2)),
    ]
    assert AuditEntry.objects.get(action="event.created").data["shifts"] == 2


def test_shift_outside_the_event_or_ending_before_it_starts_is_refused():
    event = EventFactory()
    user = host_of(event)
    rows = [
        ShiftData(starts_at=event.starts_at - timedelta(hours=1), ends_at=event.starts_at),
        ShiftData(starts_at=event.starts_at, ends_at=event.starts_at),
        ShiftData(starts_at=event.starts_at, ends_at=None),
        ShiftData(starts_at=event.starts_at, ends_at=event.ends_at, capacity=0),
    ]
    with pytest.raises(ValidationError) as caught:
        event_update(event=event, data=event_data(event), actor=user, shifts=rows)
    errors = caught.value.message_dict
    assert errors["shifts-0"][0].startswith("Shifts happen during the event: ")
    assert errors["shifts-1"] == ["A shift has to end after it starts."]
    assert errors["shifts-2"] == ["Give the shift a start and an end."]
    assert errors["shifts-3"] == [
        "A shift's capacity is at least 1, or leave it empty for no limit."
    ]
    assert Shift.objects.count() == 0


def test_shift_capacity_cannot_go_below_the_people_in_it_and_raising_it_lets_the_waitlist_in():
    event, first, second = two_shifts()
    user = host_of(event)
    rsvp(event, "ana@example.org", [second.pk])
    ben = rsvp(event, "ben@example.org", [second.pk])
    rows = [ShiftData.from_shift(first), ShiftData.from_shift(second)]
    rows[0].capacity = 0
    with pytest.raises(ValidationError):
        event_update(event=event, data=event_data(event), actor=user, shifts=rows)
    rows[0].capacity = 2
    rows[1].capacity = 2
    event_update(event=event, data=event_data(event), actor=user, shifts=rows)
    ben.refresh_from_db()
    assert ben.status == "accepted"
    assert places(ben) == [(second.pk, "accepted")]


def test_shift_with_people_in_it_cannot_be_removed_an_empty_one_can():
    event, first, second = two_shifts()
    user = host_of(event)
    rsvp(event, "ana@example.org", [second.pk])
    with pytest.raises(ValidationError) as caught:
        event_update(
            event=event, data=event_data(event), actor=user, shifts=[ShiftData.from_shift(first)]
        )
    assert caught.value.message_dict["shifts"][0].startswith("1 person is signed up for the shift")
    event_update(
        event=event, data=event_data(event), actor=user, shifts=[ShiftData.from_shift(second)]
    )
    assert list(event.shifts.values_list("pk", flat=True)) == [second.pk]


def test_moving_a_shift_with_people_tells_them_with_a_new_calendar_entry():
    event, first, second = two_shifts()
    user = host_of(event)
    rsvp(event, "ana@example.org", [first.pk])
    mail.outbox.clear()
    rows = [ShiftData.from_shift(first), ShiftData.from_shift(second)]
    rows[0].ends_at = first.ends_at - timedelta(minutes=30)
    event_update(event=event, data=event_data(event), actor=user, shifts=rows)
    event.refresh_from_db()
    assert event.revision == 1
    assert [m.to[0] for m in mail.outbox] == ["ana@example.org"]
    assert "changed the time" in mail.outbox[0].body


def test_moving_an_event_without_setting_its_shifts_moves_them_too():
    event, first, second = two_shifts()
    user = host_of(event)
    later = event_data(
        event,
        starts_at=event.starts_at + timedelta(days=1),
        ends_at=event.ends_at + timedelta(days=1),
    )
    event_update(event=event, data=later, actor=user)
    assert [s.starts_at for s in event.shifts.all()] == [
        first.starts_at + timedelta(days=1),
        second.starts_at + timedelta(days=1),
    ]
