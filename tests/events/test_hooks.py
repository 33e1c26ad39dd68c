import pytest

from rallypoint.events.hooks import event_groups
from rallypoint.groups.models import Group, MemberRole, Membership, MemberStatus
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_event_groups_answer_with_the_groups_app_rules():
    group = Group.objects.create(name="Riverside", slug="riverside")
    member, leader, stranger = PersonFactory(), PersonFactory(), PersonFactory()
    Membership.objects.create(group=group, person=member, status=MemberStatus.ACTIVE)
    Membership.objects.create(
        group=group, person=leader, status=MemberStatus.ACTIVE, role=MemberRole.LEADER
    )
    rules = event_groups()
    assert rules.by_slug("riverside") == group
    assert rules.by_slug("nowhere") is None
    assert [rules.is_member(p, group) for p in (member, leader, stranger)] == [True, True, False]
    assert [rules.is_leader(p, group) for p in (member, leader, stranger)] == [False, True, False]
