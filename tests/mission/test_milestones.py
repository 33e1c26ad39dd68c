"""Goal milestones come from the outbox: recorded once at 25/50/75/100%, organizers told once."""

import pytest
from django.core import mail

from rallypoint.actions.services import submission_record
from rallypoint.core.outbox import outbox_process
from rallypoint.ledger.services import activity_record
from rallypoint.mission.milestones import milestone_percent, milestones_record
from rallypoint.mission.models import GoalMilestone
from rallypoint.people.services import PersonData
from tests.actions.factories import ActionFactory
from tests.factories import OrganizerFactory, PersonFactory
from tests.mission.factories import GoalFactory

pytestmark = pytest.mark.django_db


def _sign(campaign, n):
    for _ in range(n):
        activity_record(person=PersonFactory(), kind="sign", campaign=campaign)


def test_percent_rounds_down():
    assert [milestone_percent(a, 200) for a in (0, 49, 50, 199, 200, 300)] == [
        0,
        24,
        25,
        99,
        100,
        100,
    ]
    assert milestone_percent(5, 0) == 0


def test_milestones_are_recorded_once_and_organizers_told_once(django_capture_on_commit_callbacks):
    organizer = OrganizerFactory()
    goal = GoalFactory(target=4)
    _sign(goal.campaign, 2)
    with django_capture_on_commit_callbacks(execute=True):
        new = milestones_record()
    assert sorted(m.percent for m in new) == [25, 50]
    assert len(mail.outbox) == 1  # the highest milestone of the pass
    assert mail.outbox[0].to == [organizer.email]
    assert "passed 50%" in mail.outbox[0].subject
    with django_capture_on_commit_callbacks(execute=True):
        assert milestones_record() == []
    assert len(mail.outbox) == 1
    _sign(goal.campaign, 2)
    with django_capture_on_commit_callbacks(execute=True):
        assert sorted(m.percent for m in milestones_record()) == [75, 100]
    assert "passed 100%" in mail.outbox[-1].subject
    assert GoalMilestone.objects.count() == 4


def test_a_draft_campaigns_goals_have_no_milestones():
    goal = GoalFactory(target=1, campaign__status="draft")
    _sign(goal.campaign, 1)
    assert milestones_record() == []


def test_a_signature_reaches_the_milestone_through_the_outbox(django_capture_on_commit_callbacks):
    OrganizerFactory()
    goal = GoalFactory(target=2)
    action = ActionFactory(campaign=goal.campaign)
    with django_capture_on_commit_callbacks(execute=True):
        submission_record(action=action, person_data=PersonData(email="ana@example.org"))
    # The commit woke the outbox task (run at once by the test task backend); a second pass,
    # as a cron `outbox_process` would make, changes nothing.
    assert list(GoalMilestone.objects.values_list("percent", flat=True)) == [25, 50]
    with django_capture_on_commit_callbacks(execute=True):
        outbox_process()
    assert GoalMilestone.objects.count() == 2
