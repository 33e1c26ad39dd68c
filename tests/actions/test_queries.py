"""Reads of the actions tool: the public page's action and its caches."""

import pytest

from rallypoint.actions import queries
from rallypoint.actions.models import Action, ActionStatus
from rallypoint.actions.queries import action_for_page
from rallypoint.actions.services import action_close, action_update
from tests.actions.factories import ActionFactory

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


def test_this_process_copy_expires_after_a_second(monkeypatch):
    """A change made by another process (here: straight in the database, with the shared cache
    emptied as that process's service would) shows within LOCAL_SECONDS."""
    now = [1000.0]
    monkeypatch.setattr(queries.time, "monotonic", lambda: now[0])
    action = ActionFactory(status=ActionStatus.LIVE)
    action_for_page(action.slug)
    Action.objects.filter(pk=action.pk).update(title="Edited elsewhere")
    queries.cache.delete(queries._page_key(action.slug))
    assert action_for_page(action.slug).title == action.title
    now[0] += queries.LOCAL_SECONDS + 0.01
    assert action_for_page(action.slug).title == "Edited elsewhere"


def test_drafts_are_never_kept(organizer):
    action = ActionFactory(status=ActionStatus.DRAFT)
    assert action_for_page(action.slug) is None
    assert action_for_page(action.slug, include_drafts=True).pk == action.pk
    assert action.slug not in queries._local
