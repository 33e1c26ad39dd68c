from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks import task_backends

from rallypoint.events.models import SweepState
from rallypoint.events.services import EventData, event_create, sweep_ensure_scheduled
from rallypoint.events.services.reminders import sweep_continue
from tests.events.factories import person_with_email
from tests.events.test_services import future

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def deferring_backend(settings):
    """A backend that can run work later (like the database and Redis ones) and records it."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    backend = task_backends["default"]
    backend.results.clear()
    return backend


def enqueued(backend):
    return [(r.task.name, r.task.run_after, r.args) for r in backend.results]


def test_event_create_schedules_reminders_host_credit_and_sweep(deferring_backend):
    event = event_create(
        data=EventData(
            title="Canvass",
            starts_at=future(),
            ends_at=future(hour=20),
            timezone="America/Denver",
            postal_code="80202",
        ),
        host=person_with_email(),
    )
    jobs = enqueued(deferring_backend)
    event.refresh_from_db()
    start = event.starts_at.isoformat()
    assert jobs[:3] == [
        ("send_event_reminders", event.starts_at - timedelta(hours=24), [event.pk, start]),
        ("send_event_reminders", event.starts_at - timedelta(hours=2), [event.pk, start]),
        ("credit_event_hosts", event.ends_at + timedelta(minutes=1), [event.pk]),
    ]
    assert [name for name, _, _ in jobs[3:]] == ["events_sweep_task"]


def test_sweep_ensure_scheduled_starts_one_chain_only(deferring_backend):
    assert sweep_ensure_scheduled() is True
    assert sweep_ensure_scheduled() is False
    assert [name for name, _, _ in enqueued(deferring_backend)] == ["events_sweep_task"]


def test_sweep_ensure_scheduled_restarts_a_lost_chain(deferring_backend):
    SweepState.objects.create(name="events", next_run_at=timezone.now() - timedelta(hours=1))
    assert sweep_ensure_scheduled() is True
    assert len(deferring_backend.results) == 1


def test_sweep_continue_does_not_fork_the_chain(deferring_backend):
    now = timezone.now()
    SweepState.objects.create(name="events", next_run_at=now)
    assert sweep_continue(now=now) is True  # the link that was due schedules the next
    assert sweep_continue(now=now) is False  # a stray second run does not
    assert len(deferring_backend.results) == 1


def test_events_sweep_command_reports(capsys):
    call_command("events_sweep")
    assert capsys.readouterr().out == "Reminders sent: 0; hosts credited: 0.\n"
