"""email_queue stores a message once per dedupe key, and enqueues its send only when it did."""

import pytest
from django_tasks_db.models import DBTaskResult

from rallypoint.core.mail import email_queue
from rallypoint.core.models import OutboundEmail

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

pytestmark = pytest.mark.django_db


def _queue(key):
    return email_queue(
        to="ana@example.org",
        template="people/email/join_confirmation",
        context={"person": None},
        dedupe_key=key,
    )


def test_a_dedupe_key_queues_one_message_and_one_send(settings):
    settings.TASKS = DB_TASKS
    first = _queue("welcome:1")
    again = _queue("welcome:1")
    assert first is not None and again is None
    assert list(OutboundEmail.objects.values_list("pk", "dedupe_key")) == [(first.pk, "welcome:1")]
    assert [t.args_kwargs["args"] for t in DBTaskResult.objects.all()] == [[first.pk]]


def test_without_a_dedupe_key_every_message_is_queued(settings):
    settings.TASKS = DB_TASKS
    messages = [_queue(None), _queue(None)]
    assert all(m is not None for m in messages)
    assert OutboundEmail.objects.count() == 2
    assert sorted(t.args_kwargs["args"][0] for t in DBTaskResult.objects.all()) == sorted(
        m.pk for m in messages
    )
