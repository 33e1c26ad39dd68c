"""People change their shifts at the same moment: places are given exactly while they last,
and a place given up goes to the person who waited longest, never to someone who came later.
On PostgreSQL with threads; on SQLite in a child process over a file database (see
test_capacity_race: the test database is an in-memory one where threads can't wait)."""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connections

from rallypoint.events.models import ShiftSignup
from rallypoint.events.services import rsvp_create, rsvp_shifts_change
from rallypoint.people.services import PersonData
from tests.events.factories import EventFactory, ShiftFactory

ADDERS = 30
HOLDERS = 5
WAITERS = 10


def _rsvp(event, email, shifts):
    return rsvp_create(event=event, person_data=PersonData(email=email), shifts=shifts)


def busy_phone_bank():
    """A phone bank whose first shift (5 places) is full, with 10 people waiting for it, and
    30 more people in its second shift (no limit) who will all want the first too."""
    event = EventFactory()
    tight = ShiftFactory(event=event, capacity=HOLDERS)
    open_ = ShiftFactory(event=event, starts_at=tight.ends_at, ends_at=event.ends_at)
    holders = [_rsvp(event, f"holder{i}@example.org", [tight.pk, open_.pk]) for i in range(HOLDERS)]
    waiters = [_rsvp(event, f"waiter{i}@example.org", [tight.pk, open_.pk]) for i in range(WAITERS)]
    adders = [_rsvp(event, f"adder{i}@example.org", [open_.pk]) for i in range(ADDERS)]
    return event, tight, open_, holders, waiters, adders


def race(changes):
    """Run each (rsvp, shifts) change in a thread of its own, all at once."""
    barrier = threading.Barrier(len(changes))
    errors: list[str] = []

    def one(rsvp, shifts):
        try:
            barrier.wait()
            rsvp_shifts_change(rsvp=rsvp, shifts=shifts)
        except Exception as exc:  # collected and asserted empty
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one, args=change) for change in changes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def outcome(tight, holders, waiters, adders) -> dict:
    tight.refresh_from_db()
    going = ShiftSignup.objects.filter(shift=tight, status="accepted")
    waiting = ShiftSignup.objects.filter(shift=tight, status="waitlisted")
    return {
        "seats_taken": tight.seats_taken,
        "going": going.count(),
        "holders_going": going.filter(rsvp__in=[r.pk for r in holders]).count(),
        "waiters_going": sorted(
            waiters.index(r) for r in waiters if going.filter(rsvp=r.pk).exists()
        ),
        "adders_going": going.filter(rsvp__in=[r.pk for r in adders]).count(),
        "adders_waiting": waiting.filter(rsvp__in=[r.pk for r in adders]).count(),
    }


def the_holders_leave_while_everyone_else_joins():
    event, tight, open_, holders, waiters, adders = busy_phone_bank()
    changes = [(r, [open_.pk]) for r in holders] + [(r, [tight.pk, open_.pk]) for r in adders]
    errors = race(changes)
    return errors, outcome(tight, holders, waiters, adders)


# The five places the holders give up go to the five who waited longest; everyone who adds the
# shift meanwhile waits behind them.
EXPECTED = {
    "seats_taken": HOLDERS,
    "going": HOLDERS,
    "holders_going": 0,
    "waiters_going": [0, 1, 2, 3, 4],
    "adders_going": 0,
    "adders_waiting": ADDERS,
}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_shift_change_race_postgres_freed_places_go_to_the_longest_waiting():
    errors, result = the_holders_leave_while_everyone_else_joins()
    assert errors == []
    assert result == EXPECTED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_shift_change_race_postgres_exactly_the_places_left():
    event = EventFactory()
    tight = ShiftFactory(event=event, capacity=50)
    open_ = ShiftFactory(event=event, starts_at=tight.ends_at, ends_at=event.ends_at)
    ShiftSignup.objects.bulk_create(
        [
            ShiftSignup(
                rsvp=_rsvp(event, f"early{i}@example.org", [open_.pk]),
                shift=tight,
                status="accepted",
                created_at=event.created_at,
            )
            for i in range(45)
        ]
    )
    tight.seats_taken = 45
    tight.save()
    adders = [_rsvp(event, f"adder{i}@example.org", [open_.pk]) for i in range(ADDERS)]
    errors = race([(r, [tight.pk, open_.pk]) for r in adders])
    assert errors == []
    tight.refresh_from_db()
    racers = ShiftSignup.objects.filter(shift=tight, rsvp__in=[r.pk for r in adders])
    assert racers.filter(status="accepted").count() == 5
    assert racers.filter(status="waitlisted").count() == ADDERS - 5
    assert tight.seats_taken == 50


def test_shift_change_race_sqlite_file_freed_places_go_to_the_longest_waiting(tmp_path):
    env = {**os.environ, "RALLYPOINT_VAR_DIR": str(tmp_path), "TASK_BACKEND": "immediate"}
    env.pop("DATABASE_URL", None)
    env["EMAIL_URL"] = "dummy://"
    python = sys.executable
    subprocess.run([python, "-m", "rallypoint", "migrate", "-v0"], env=env, check=True, timeout=240)
    done = subprocess.run(
        [python, "-m", "tests.events.race_sqlite_shift_change"],
        env=env,
        check=True,
        timeout=240,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    errors, result = json.loads(done.stdout.strip().splitlines()[-1])
    assert errors == []
    assert result == EXPECTED
