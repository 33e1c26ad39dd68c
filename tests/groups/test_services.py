import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from rallypoint.events.models import Event
from rallypoint.events.services import EventData, event_create
from rallypoint.groups.models import Announcement, Group, Membership
from rallypoint.groups.queries import group_leaderboard, groups_near, ways_to_help
from rallypoint.groups.services import (
    announcement_post,
    event_invite_group,
    group_approve,
    group_create,
    group_join,
    group_leave,
    group_merge,
    leader_appoint,
    membership_approve,
)
from rallypoint.ledger.models import Activity
from rallypoint.people.services import PersonData
from tests.events.factories import person_with_email
from tests.events.test_services import future
from tests.factories import OrganizerFactory, UserFactory
from tests.groups.factories import GroupFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_group_create_by_supporter_waits_for_approval_then_counts():
    founder = person_with_email()
    group = group_create(founder=founder, name="Eastside Neighbors", postal_code="80012")
    assert (group.status, group.slug, group.locality) == ("pending", "eastside-neighbors", "Aurora")
    assert Activity.objects.count() == 0
    group_approve(group=group, actor=OrganizerFactory())
    group.refresh_from_db()
    assert group.status == "active"
    assert sorted(Activity.objects.values_list("kind", flat=True)) == ["group_join", "group_start"]
    assert Membership.objects.get().role == "leader"


def test_group_create_unknown_postal_code_is_refused():
    with pytest.raises(ValidationError) as exc:
        group_create(founder=person_with_email(), name="Nowhere", postal_code="00000")
    assert exc.value.message_dict == {"postal_code": ["We don't know the postal code “00000”."]}
    assert Group.objects.count() == 0


def test_group_create_same_name_gets_unique_slug():
    organizer = OrganizerFactory()
    first = group_create(founder=person_with_email(), actor=organizer, name="Team", region="Metro")
    second = group_create(founder=person_with_email(), actor=organizer, name="Team", region="Metro")
    assert (first.slug, second.slug) == ("team", "team-2")


def test_group_approve_by_supporter_is_forbidden_and_unchanged():
    group = GroupFactory(status="pending")
    with pytest.raises(PermissionDenied):
        group_approve(group=group, actor=UserFactory())
    group.refresh_from_db()
    assert group.status == "pending"


def test_group_join_open_group_records_act_and_new_person():
    group = GroupFactory()
    joined = group_join(group=group, person_data=PersonData(email="new@example.org"))
    membership = joined.membership
    assert (membership.status, joined.created) == ("active", True)
    assert Activity.objects.get().kind == "group_join"
    again = group_join(group=group, person=membership.person)
    assert (again.membership.pk, again.created) == (membership.pk, False)
    assert Activity.objects.count() == 1


def test_group_join_approval_group_waits_for_leader():
    group = GroupFactory(join_policy="approval")
    leader = MembershipFactory(group=group, role="leader")
    membership = group_join(group=group, person=person_with_email()).membership
    assert membership.status == "pending"
    assert Activity.objects.count() == 0
    membership_approve(membership=membership, actor=UserFactory(person=leader.person))
    membership.refresh_from_db()
    assert membership.status == "active"
    assert Activity.objects.get().kind == "group_join"


def test_membership_approve_by_member_is_forbidden_and_unchanged():
    group = GroupFactory(join_policy="approval")
    member = MembershipFactory(group=group)
    pending = group_join(group=group, person=person_with_email()).membership
    with pytest.raises(PermissionDenied):
        membership_approve(membership=pending, actor=UserFactory(person=member.person))
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_group_leave_only_leader_with_members_is_refused():
    group = GroupFactory()
    leader = MembershipFactory(group=group, role="leader")
    MembershipFactory(group=group)
    with pytest.raises(ValidationError):
        group_leave(group=group, person=leader.person)
    leader.refresh_from_db()
    assert leader.status == "active"


def test_announcement_post_by_member_is_forbidden_and_sends_nothing():
    group = GroupFactory()
    member = MembershipFactory(group=group)
    MembershipFactory(group=group)
    with pytest.raises(PermissionDenied):
        announcement_post(
            group=group,
            actor=UserFactory(person=member.person),
            author=member.person,
            title="I'm the leader now",
            body="…",
        )
    assert Announcement.objects.count() == 0
    assert mail.outbox == []


def test_announcement_post_by_leader_emails_members():
    group = GroupFactory(name="Eastside")
    leader = MembershipFactory(group=group, role="leader")
    members = [MembershipFactory(group=group) for _ in range(2)]
    MembershipFactory(group=group, status="left")
    post = announcement_post(
        group=group,
        actor=UserFactory(person=leader.person),
        author=leader.person,
        title="Canvass Saturday",
        body="Meet at 10.",
    )
    assert post.recipients == 3
    assert {m.subject for m in mail.outbox} == {"Eastside: Canvass Saturday"}
    recipients = sorted(m.to[0] for m in mail.outbox)
    expected = sorted(m.person.email_addresses.get().address for m in [leader, *members])
    assert recipients == expected


def test_leader_appoint_by_organizer():
    group = GroupFactory()
    member = MembershipFactory(group=group)
    leader_appoint(group=group, person=member.person, actor=OrganizerFactory())
    member.refresh_from_db()
    assert member.role == "leader"


def test_leader_appoint_by_member_is_forbidden_and_unchanged():
    group = GroupFactory()
    member = MembershipFactory(group=group)
    with pytest.raises(PermissionDenied):
        leader_appoint(group=group, person=member.person, actor=UserFactory(person=member.person))
    member.refresh_from_db()
    assert member.role == "member"


def test_group_merge_moves_members_events_and_keeps_leaders():
    organizer = OrganizerFactory()
    source, target = GroupFactory(), GroupFactory()
    both = person_with_email()
    MembershipFactory(group=source, person=both, role="leader")
    MembershipFactory(group=target, person=both)
    only_source = MembershipFactory(group=source)
    leader = MembershipFactory(group=source, role="leader")
    event = event_create(
        data=EventData(
            title="Group canvass",
            starts_at=future(),
            ends_at=future(hour=20),
            timezone="America/Denver",
            postal_code="80202",
            group=source,
        ),
        host=leader.person,
    )
    group_merge(source=source, target=target, actor=organizer)
    source.refresh_from_db()
    assert (source.status, source.merged_into_id) == ("merged", target.pk)
    roles = dict(target.memberships.values_list("person_id", "role"))
    assert roles == {both.pk: "leader", only_source.person_id: "member", leader.person_id: "leader"}
    assert Event.objects.get(pk=event.pk).group_id == target.pk


def test_group_merge_by_supporter_is_forbidden_and_unchanged():
    source, target = GroupFactory(), GroupFactory()
    MembershipFactory(group=source)
    with pytest.raises(PermissionDenied):
        group_merge(source=source, target=target, actor=UserFactory())
    source.refresh_from_db()
    assert source.status == "active"
    assert target.memberships.count() == 0


def test_event_create_for_group_by_member_is_forbidden():
    group = GroupFactory()
    member = MembershipFactory(group=group)
    with pytest.raises(PermissionDenied):
        event_create(
            data=EventData(
                title="Not mine",
                starts_at=future(),
                ends_at=future(hour=20),
                timezone="America/Denver",
                postal_code="80202",
                group=group,
            ),
            host=member.person,
        )
    assert Event.objects.count() == 0


def test_event_invite_group_emails_members_once():
    group = GroupFactory(name="Eastside")
    leader = MembershipFactory(group=group, role="leader")
    MembershipFactory(group=group)
    event = event_create(
        data=EventData(
            title="Phone bank",
            starts_at=future(),
            ends_at=future(hour=20),
            timezone="America/Denver",
            postal_code="80202",
            group=group,
        ),
        host=leader.person,
    )
    user = UserFactory(person=leader.person)
    assert event_invite_group(event=event, actor=user) == 2
    assert event_invite_group(event=event, actor=user) == 0
    assert {m.subject for m in mail.outbox} == {"Eastside invites you: Phone bank"}


def test_groups_near_real_postal_codes():
    GroupFactory(name="Aurora", latitude=39.7038, longitude=-104.8379)
    GroupFactory(name="Springs", latitude=38.8388, longitude=-104.8145)
    GroupFactory(name="Hidden", status="pending")
    qs, error = groups_near("80202", 25 * 1.609344)
    assert error == ""
    assert [g.name for g in qs] == ["Aurora"]
    assert groups_near("00000", 40) == (None, "We don't know the postal code “00000”.")


def test_group_leaderboard_sums_member_points():
    group = GroupFactory()
    top = MembershipFactory(
        group=group, person=person_with_email(given_name="Ana", family_name="Lee")
    )
    low = MembershipFactory(
        group=group, person=person_with_email(given_name="Bo", family_name="Kim")
    )
    gone = MembershipFactory(group=group, status="left")
    for membership, points in [(top, 7), (low, 2), (gone, 50)]:
        Activity.objects.create(
            person=membership.person, kind="call", points=points, created_at="2030-01-01T00:00Z"
        )
    assert group_leaderboard(group) == [
        {"name": "Ana L.", "points": 7},
        {"name": "Bo K.", "points": 2},
    ]


def test_ways_to_help_counts_active_groups():
    GroupFactory()
    GroupFactory(status="pending")
    assert ways_to_help(None)[0]["count"] == 1
