"""50 people RSVP at the same moment for the last 5 seats: exactly 5 get in. The same for the
last 5 places in a shift."""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connections

from rallypoint.events.models import Rsvp, ShiftSignup
from rallypoint.events.services import rsvp_create, rsvp_record_together
from rallypoint.people.services import PersonData
from tests.events.factories import EventFactory, ShiftFactory

RACERS = 50


def race(event, racers=RACERS, *, together=False, shifts=None):
    barrier = threading.Barrier(racers)
    results, errors = [], []

    def one(i):
        try:
            barrier.wait()
            data = PersonData(email=f"racer{i}@example.org")
            if together:  # as the RSVP form and the API write them: in groups
                rsvp = rsvp_record_together(event=event, person_data=data, shifts=shifts).rsvp
            else:
                rsvp = rsvp_create(event=event, person_data=data, shifts=shifts)
            results.append(rsvp.status)
        except Exception as exc:  # collected and asserted empty below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def last_five_seats():
    event = EventFactory(capacity=50)
    # 45 seats already taken.
    Rsvp.objects.bulk_create([Rsvp(event=event, person=p, status="accepted") for p in _people(45)])
    event.seats_taken = 45
    event.save()
    return event


def _people(n):
    from tests.events.factories import person_with_email

    return [person_with_email(f"early{i}@example.org") for i in range(n)]


def assert_exactly_five(event, results, errors):
    assert errors == []
    assert sorted(results).count("accepted") == 5
    assert sorted(results).count("waitlisted") == RACERS - 5
    event.refresh_from_db()
    assert event.seats_taken == 50
    assert Rsvp.objects.filter(event=event, status="accepted").count() == 50
    assert Rsvp.objects.filter(event=event, status="waitlisted").count() == RACERS - 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rsvp_capacity_race_postgres_exactly_five_of_fifty():
    event = last_five_seats()
    results, errors = race(event)
    assert_exactly_five(event, results, errors)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rsvp_capacity_race_postgres_written_together_exactly_five_of_fifty(settings):
    settings.RSVP_BATCH_MAX = 8
    event = last_five_seats()
    results, errors = race(event, together=True)
    assert_exactly_five(event, results, errors)


def test_rsvp_capacity_race_sqlite_file_exactly_five_of_fifty(tmp_path):
    """SQLite in tests is a shared-cache memory database, where threads get "table is locked"
    instead of waiting; the real thing is a WAL file. So race against a fresh file database in a
    child process (the same code as production: IMMEDIATE transactions serialize writers)."""
    env = {**os.environ, "RALLYPOINT_VAR_DIR": str(tmp_path), "TASK_BACKEND": "immediate"}
    env.pop("DATABASE_URL", None)
    env["EMAIL_URL"] = "dummy://"
    python = sys.executable
    subprocess.run([python, "-m", "rallypoint", "migrate", "-v0"], env=env, check=True, timeout=240)
    done = subprocess.run(
        [python, "-m", "tests.events.race_sqlite", str(RACERS)],
        env=env,
        check=True,
        timeout=240,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome == {
        "errors": [],
        "accepted": 5,
        "waitlisted": RACERS - 5,
        "seats_taken": 50,
        "accepted_rows": 50,
    }


def last_five_places_in_a_shift():
    """A phone bank whose first shift has 5 places left of 50 and whose second has no limit."""
    event = EventFactory()
    tight = ShiftFactory(event=event, capacity=50)
    open_ = ShiftFactory(event=event, starts_at=tight.ends_at, ends_at=event.ends_at)
    early = Rsvp.objects.bulk_create(
        [Rsvp(event=event, person=p, status="accepted") for p in _people(45)]
    )
    ShiftSignup.objects.bulk_create(
        [
            ShiftSignup(rsvp=r, shift=tight, status="accepted", created_at=r.created_at)
            for r in early
        ]
    )
    tight.seats_taken = 45
    tight.save()
    event.seats_taken = 45
    event.save()
    return event, tight, open_


def assert_exactly_five_in_the_shift(event, tight, open_, results, errors, *, both):
    assert errors == []
    racers = ShiftSignup.objects.filter(rsvp__person__email_addresses__address__startswith="racer")
    assert racers.filter(shift=tight, status="accepted").count() == 5
    assert racers.filter(shift=tight, status="waitlisted").count() == RACERS - 5
    tight.refresh_from_db(), open_.refresh_from_db(), event.refresh_from_db()
    assert tight.seats_taken == 50
    if both:  # everyone is going, in the open shift at least
        assert sorted(results).count("accepted") == RACERS
        assert open_.seats_taken == RACERS
        assert event.seats_taken == 45 + RACERS
    else:
        assert sorted(results).count("accepted") == 5
        assert sorted(results).count("waitlisted") == RACERS - 5
        assert event.seats_taken == 50


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("together", [False, True])
def test_shift_capacity_race_postgres_exactly_five_of_fifty(settings, together):
    settings.RSVP_BATCH_MAX = 8
    event, tight, open_ = last_five_places_in_a_shift()
    results, errors = race(event, together=together, shifts=[tight.pk])
    assert_exactly_five_in_the_shift(event, tight, open_, results, errors, both=False)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_shift_capacity_race_postgres_two_shifts_each_locked_once(settings):
    settings.RSVP_BATCH_MAX = 8
    event, tight, open_ = last_five_places_in_a_shift()
    # Everyone picks both shifts: each group locks the event, then both shifts in id order.
    results, errors = race(event, together=True, shifts=[open_.pk, tight.pk])
    assert_exactly_five_in_the_shift(event, tight, open_, results, errors, both=True)
