"""RSVPs written together: one transaction and one capacity lock per group, through the same
write as a lone RSVP; a failure in one RSVP reaches only its own request."""

import itertools
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rallypoint.core.models import OutboxEvent
from rallypoint.events.models import Event, Rsvp
from rallypoint.events.services import RsvpResult, rsvp_check, rsvp_record, rsvps_record
from rallypoint.ledger.models import Activity
from rallypoint.people.models import EmailAddress
from rallypoint.people.services import PersonData
from rallypoint.sharing.referral import Referral
from tests.events.factories import EventFactory, person_with_email

# Real commits: the emails queued after commit are sent as in production.
pytestmark = pytest.mark.django_db(transaction=True)

LINKS_SUBJECT = "Your RSVP"
LOCK = re.compile(r"\bFOR (NO KEY )?UPDATE\b")


def checked(event, email, **options):
    return rsvp_check(event=event, person_data=PersonData(email=email, given_name="Ana"), **options)


def in_transaction(captured):
    """The statements of the write itself (what runs after its commit, the emails, is left out)."""
    sqls = [q["sql"] for q in captured.captured_queries]
    return sqls[: sqls.index("COMMIT")]


def event_selects(sqls):
    return [sql for sql in sqls if sql.startswith("SELECT") and 'FROM "events_event"' in sql]


def test_rsvps_record_group_locks_the_event_once_and_fills_seats_then_waitlist_in_order():
    event = EventFactory(capacity=4, title="Phone bank")
    # Seats: 1, 2, then a party of 3 that does not fit (waitlist), 3, 4, then the waitlist.
    guests = [0, 0, 2, 0, 0, 0]
    group = [checked(event, f"p{i}@example.org", guests=g) for i, g in enumerate(guests)]
    with CaptureQueriesContext(connection) as captured:
        results = rsvps_record(group)
    assert [r.rsvp.status for r in results] == [
        "accepted",
        "accepted",
        "waitlisted",
        "accepted",
        "accepted",
        "waitlisted",
    ]
    assert [r.created for r in results] == [True] * 6
    event.refresh_from_db()
    assert event.seats_taken == 4
    write = in_transaction(captured)
    selects = event_selects(write)
    assert len(selects) == 1  # the lock, once for the group
    locks = [sql for sql in write if LOCK.search(sql)]
    if connection.vendor == "postgresql":
        assert locks == selects
    else:
        assert locks == []  # SQLite: the IMMEDIATE transaction serializes writers
    inserts = [sql for sql in write if sql.startswith('INSERT INTO "events_rsvp"')]
    assert len(inserts) == 1
    acts = Activity.objects.filter(kind="rsvp").order_by("id")
    assert [a.details["rsvp"] for a in acts] == [results[i].rsvp.pk for i in (0, 1, 3, 4)]
    assert OutboxEvent.objects.filter(kind="attendance").count() == 6
    assert sorted((m.to[0], m.subject) for m in mail.outbox) == sorted(
        [(f"p{i}@example.org", "You're going: Phone bank") for i in (0, 1, 3, 4)]
        + [(f"p{i}@example.org", "You're on the waitlist: Phone bank") for i in (2, 5)]
    )


def test_rsvps_record_locks_each_event_of_a_group_once():
    first, second = EventFactory(capacity=1), EventFactory(capacity=1)
    group = [checked(e, f"q{i}@example.org") for i, e in enumerate([first, second, first, second])]
    with CaptureQueriesContext(connection) as captured:
        results = rsvps_record(group)
    assert [r.rsvp.status for r in results] == ["accepted", "accepted", "waitlisted", "waitlisted"]
    assert len(event_selects(in_transaction(captured))) == 1
    assert sorted(Event.objects.values_list("seats_taken", flat=True)) == [1, 1]


def test_rsvps_record_same_person_twice_in_a_group_counts_once():
    event = EventFactory(capacity=5)
    results = rsvps_record(
        [checked(event, "ana@example.org"), checked(event, "ANA@example.org", guests=3)]
    )
    assert results[0].rsvp.pk == results[1].rsvp.pk
    assert [r.created for r in results] == [True, False]
    assert results[1].rsvp.guests == 0
    event.refresh_from_db()
    assert event.seats_taken == 1
    assert Rsvp.objects.count() == 1
    assert Activity.objects.filter(kind="rsvp").count() == 1


def test_rsvps_record_full_event_without_waitlist_fails_only_that_rsvp():
    open_event = EventFactory(capacity=10, title="Open")
    full = EventFactory(capacity=1, waitlist_enabled=False, title="Full")
    rsvp_record(event=full, person_data=PersonData(email="first@example.org"))
    mail.outbox.clear()
    group = [
        checked(open_event, "a@example.org"),
        checked(full, "b@example.org"),
        checked(open_event, "c@example.org"),
    ]
    results = rsvps_record(group)
    assert isinstance(results[0], RsvpResult) and isinstance(results[2], RsvpResult)
    assert isinstance(results[1], ValidationError)
    assert results[1].messages == ["Sorry, this event is full."]
    assert [r.rsvp.status for r in (results[0], results[2])] == ["accepted", "accepted"]
    open_event.refresh_from_db()
    full.refresh_from_db()
    assert (open_event.seats_taken, full.seats_taken) == (2, 1)
    assert not EmailAddress.objects.filter(address="b@example.org").exists()
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.org", "c@example.org"]


def test_rsvps_record_any_exception_in_one_rsvp_fails_only_that_rsvp():
    kept = EventFactory(capacity=10)
    gone = EventFactory(capacity=10)
    group = [checked(kept, "a@example.org"), checked(gone, "b@example.org")]
    group.append(checked(kept, "c@example.org"))
    # Deleted after its RSVP was checked: the write finds no event to lock.
    Event.objects.filter(pk=gone.pk).delete()
    results = rsvps_record(group)
    assert isinstance(results[1], Event.DoesNotExist)
    assert [r.rsvp.status for r in (results[0], results[2])] == ["accepted", "accepted"]
    assert Rsvp.objects.filter(event=kept).count() == 2
    assert not EmailAddress.objects.filter(address="b@example.org").exists()
    assert Activity.objects.filter(kind="rsvp").count() == 2


def test_rsvps_record_double_submit_answered_a_moment_ago_is_found_not_refused():
    event = EventFactory(capacity=10)
    group = [checked(event, "a@example.org"), checked(event, "b@example.org", resend_links=True)]
    # The same person's other request wrote their RSVP after this one was checked.
    earlier = rsvp_record(event=event, person_data=PersonData(email="b@example.org"))
    mail.outbox.clear()
    results = rsvps_record(group)
    assert results[1].rsvp.pk == earlier.rsvp.pk and results[1].created is False
    event.refresh_from_db()
    assert event.seats_taken == 2
    # The first is confirmed; the owner of the second address gets their links again.
    assert sorted((m.to[0], m.subject.split(":")[0]) for m in mail.outbox) == [
        ("a@example.org", "You're going"),
        ("b@example.org", LINKS_SUBJECT),
    ]


# --- a group gives what the same RSVPs give one by one -------------------------------------

_runs = itertools.count()

rsvp_specs = st.lists(
    st.fixed_dictionaries(
        {
            "event": st.integers(0, 1),
            "who": st.integers(0, 4),  # 0 and 1 are known before; repeats answer again
            "guests": st.integers(0, 3),
            "referred": st.booleans(),
            "attended": st.booleans(),
        }
    ),
    min_size=1,
    max_size=8,
)
event_specs = st.tuples(
    *[
        st.fixed_dictionaries(
            {"capacity": st.sampled_from([None, 1, 2, 4]), "waitlist_enabled": st.booleans()}
        )
        for _ in range(2)
    ]
)


def _scenario(events_spec, specs):
    """Fresh events and known people for one run; returns the keyword arguments of each RSVP
    and a function that names a person by their place in the scenario."""
    run = next(_runs)
    events = [EventFactory(title=f"Event {k}", **spec) for k, spec in enumerate(events_spec)]
    sharer = person_with_email(f"sharer{run}@example.org")
    for who in (0, 1):
        person_with_email(f"r{run}-{who}@example.org")
    calls = [
        {
            "event": events[s["event"]],
            "person_data": PersonData(email=f"r{run}-{s['who']}@example.org", given_name="R"),
            "guests": s["guests"],
            "referral": Referral(code=sharer.share_code, channel="sms") if s["referred"] else None,
            "attended": s["attended"],
            "resend_links": True,
        }
        for s in specs
    ]
    return run, events, sharer, calls


def _outcome(events, sharer, results):
    def name(person_id):
        if person_id == sharer.pk:
            return "sharer"
        address = EmailAddress.objects.get(person_id=person_id).address
        return address.split("@")[0].split("-")[1]

    answers = [
        (type(r).__name__, tuple(getattr(r, "messages", [])))
        if isinstance(r, Exception)
        else (r.rsvp.status, r.created, r.person_created, r.rsvp.guests, name(r.person.pk))
        for r in results
    ]
    state = []
    for event in events:
        event.refresh_from_db()
        rsvps = sorted(
            (name(r.person_id), r.status, r.guests, r.attended)
            for r in Rsvp.objects.filter(event=event)
        )
        acts = sorted(
            (a.kind, name(a.person_id), a.referrer_id == sharer.pk, a.channel)
            for a in Activity.objects.filter(kind__in=["rsvp", "attend"], target_id=str(event.pk))
        )
        state.append((event.seats_taken, rsvps, acts))
    state.append(Activity.objects.filter(person=sharer).count())  # the sharer's credits
    emails = sorted((m.subject, m.to[0].split("@")[0].split("-")[-1]) for m in mail.outbox)
    return answers, state, emails


def _one_by_one(calls):
    results = []
    for call in calls:
        try:
            results.append(rsvp_record(**call))
        except Exception as exc:  # noqa: BLE001 - compared with the group's answer
            results.append(exc)
    return results


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events_spec=event_specs, specs=rsvp_specs)
def test_rsvps_record_group_equals_the_same_rsvps_one_by_one(events_spec, specs):
    mail.outbox.clear()
    run, events, sharer, calls = _scenario(events_spec, specs)
    alone = _outcome(events, sharer, _one_by_one(calls))
    mail.outbox.clear()
    run, events, sharer, calls = _scenario(events_spec, specs)
    together = _outcome(events, sharer, rsvps_record([rsvp_check(**c) for c in calls]))
    assert together == alone
