"""enqueue_on_commit: the task row rides in the transaction with the database backend, and
waits for the commit with any other backend."""

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from rallypoint.core.mail import email_queue
from rallypoint.core.models import OutboundEmail
from rallypoint.core.tasks import enqueue_on_commit, send_email

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": []}}


class Rollback(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_database_backend_writes_the_task_row_inside_the_transaction(settings):
    settings.TASKS = DB_TASKS
    with transaction.atomic():
        enqueue_on_commit(send_email, 41)
        # Already written (no separate transaction after the commit) …
        assert DBTaskResult.objects.count() == 1
    assert DBTaskResult.objects.get().args_kwargs == {"args": [41], "kwargs": {}}


@pytest.mark.django_db(transaction=True)
def test_database_backend_task_rolls_back_with_the_data(settings):
    settings.TASKS = DB_TASKS
    with pytest.raises(Rollback), transaction.atomic():
        email_queue(
            to="ana@example.org",
            template="people/email/join_confirmation",
            context={"person": None},
        )
        assert DBTaskResult.objects.count() == 1
        raise Rollback
    assert DBTaskResult.objects.count() == 0 and OutboundEmail.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_other_backends_wait_for_the_commit(settings):
    settings.TASKS = DUMMY_TASKS
    from django_tasks import default_task_backend

    with transaction.atomic():
        enqueue_on_commit(send_email, 7)
        assert default_task_backend.results == []
    assert [r.args for r in default_task_backend.results] == [[7]]
    with pytest.raises(Rollback), transaction.atomic():
        enqueue_on_commit(send_email, 8)
        raise Rollback
    assert [r.args for r in default_task_backend.results] == [[7]]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_it_is_enqueued_at_once(settings):
    settings.TASKS = DB_TASKS
    enqueue_on_commit(send_email, 9)
    assert DBTaskResult.objects.count() == 1
