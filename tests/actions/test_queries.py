"""Reads of the actions tool: the public page's action and its caches."""

import time

import pytest

from rallypoint.actions.models import Action, ActionStatus
from rallypoint.actions.queries import (
    ACTION_PAGE,
    action_count,
    action_count_forget,
    action_for_page,
)
from rallypoint.actions.services import action_close, action_update
from tests.actions.factories import ActionFactory, SubmissionFactory

pytestmark = pytest.mark.django_db


def test_public_action_is_read_once_and_each_caller_gets_its_own_copy(
    django_assert_num_queries,
):
    action = ActionFactory(status=ActionStatus.LIVE)
    first = action_for_page(action.slug)
    with django_assert_num_queries(0):
        second = action_for_page(action.slug)
    assert second is not first
    assert (second.pk, second.title, second.campaign_id) == (
        action.pk,
        action.title,
        action.campaign_id,
    )
    second.title = "Changed on one request only"
    assert action_for_page(action.slug).title == action.title


def test_a_change_through_the_services_is_seen_once_committed(
    organizer, django_capture_on_commit_callbacks
):
    action = ActionFactory(status=ActionStatus.LIVE)
    assert action_for_page(action.slug).title == action.title
    with django_capture_on_commit_callbacks(execute=True):
        action_update(action=action, actor=organizer, title="A sharper title")
    assert action_for_page(action.slug).title == "A sharper title"
    with django_capture_on_commit_callbacks(execute=True):
        action_close(action=action, actor=organizer)
    assert action_for_page(action.slug).status == ActionStatus.CLOSED


def test_a_copy_expires_after_a_few_seconds(monkeypatch):
    """A change that did not go through the services shows once the copy's freshness has
    passed."""
    now = [time.time()]
    monkeypatch.setattr(time, "time", lambda: now[0])
    action = ActionFactory(status=ActionStatus.LIVE)
    action_for_page(action.slug)
    Action.objects.filter(pk=action.pk).update(title="Edited elsewhere")
    assert action_for_page(action.slug).title == action.title
    now[0] += ACTION_PAGE.fresh_for + 0.01
    assert action_for_page(action.slug).title == "Edited elsewhere"


def test_drafts_are_never_kept(organizer):
    action = ActionFactory(status=ActionStatus.DRAFT)
    assert action_for_page(action.slug) is None
    assert action_for_page(action.slug, include_drafts=True).pk == action.pk
    Action.objects.filter(pk=action.pk).update(status=ActionStatus.LIVE)
    assert action_for_page(action.slug).pk == action.pk


def test_count_is_fresh_once_forgotten():
    action = ActionFactory(status=ActionStatus.LIVE)
    assert action_count(action) == 0
    SubmissionFactory(action=action)
    assert action_count(action) == 0  # counts may lag a few seconds …
    action_count_forget(action.pk)
    assert action_count(action) == 1  # … unless a new signature forgets them
