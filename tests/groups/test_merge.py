"""Merging groups: a preview first, a POST with an explicit confirmation, refusals that make
sense, and an audit entry with before/after."""

import pytest
from django.core.exceptions import ValidationError

from rallypoint.core.models import AuditEntry
from rallypoint.groups.models import Group, Membership
from rallypoint.groups.services import group_merge, group_merge_preview
from tests.events.factories import EventFactory, person_with_email
from tests.factories import OrganizerFactory, UserFactory
from tests.groups.factories import GroupFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def two_groups(**source_fields):
    source = GroupFactory(name="Eastside", **source_fields)
    target = GroupFactory(name="Westside")
    both = person_with_email()
    MembershipFactory(group=source, person=both, role="leader")
    MembershipFactory(group=target, person=both)
    MembershipFactory(group=source)
    MembershipFactory(group=source)
    MembershipFactory(group=target, role="leader")
    EventFactory(group=source)
    return source, target


def state(*groups):
    """Everything a merge would change, to compare before and after."""
    return (
        [
            tuple(Group.objects.filter(pk=g.pk).values_list("status", "merged_into")[0])
            for g in groups
        ],
        sorted(Membership.objects.values_list("group_id", "person_id", "role", "status")),
        AuditEntry.objects.filter(action__startswith="group.merge").count(),
    )


def test_group_merge_get_shows_preview_and_changes_nothing(organizer_client):
    source, target = two_groups()
    before = state(source, target)
    response = organizer_client.get(f"/groups/{source.slug}/merge/", {"target": target.slug})
    assert response.status_code == 200
    preview = response.context["preview"]
    assert (preview.source.name, preview.source.members, preview.source.leaders) == (
        "Eastside",
        3,
        1,
    )
    assert (preview.target.name, preview.target.members, preview.source.events) == (
        "Westside",
        2,
        1,
    )
    assert (preview.members_moving, preview.members_in_both, preview.members_after) == (2, 1, 4)
    assert preview.differences == []
    body = response.content.decode()
    assert '<p class="eyebrow">Keep</p>' in body
    assert "Yes, merge these groups" in body
    assert state(source, target) == before


def test_group_merge_post_without_confirmation_changes_nothing(organizer_client):
    source, target = two_groups()
    before = state(source, target)
    response = organizer_client.post(f"/groups/{source.slug}/merge/", {"target": target.slug})
    assert response.status_code == 400
    assert "Nothing was changed" in response.content.decode()
    assert state(source, target) == before


def test_group_merge_post_with_confirmation_merges_and_logs_before_after(organizer_client):
    source, target = two_groups()
    response = organizer_client.post(
        f"/groups/{source.slug}/merge/", {"target": target.slug, "confirm": "1"}
    )
    assert response.status_code == 302
    assert response.url == "/groups/organize/"
    source.refresh_from_db()
    assert (source.status, source.merged_into_id) == ("merged", target.pk)
    assert target.memberships.filter(status="active").count() == 4
    entry = AuditEntry.objects.get(action="group.merged")
    assert (entry.object_id, entry.actor_id) == (str(target.pk), response.wsgi_request.user.pk)
    assert entry.data["before"]["source"]["status"] == "active"
    assert entry.data["before"]["source"]["members"] == 3
    assert entry.data["before"]["target"]["members"] == 2
    assert entry.data["after"]["source"]["status"] == "merged"
    assert entry.data["after"]["source"]["members"] == 0
    assert entry.data["after"]["target"]["members"] == 4
    assert entry.data["after"]["target"]["events"] == 1
    assert (entry.data["members_moved"], entry.data["events_moved"]) == (2, 1)
    assert AuditEntry.objects.get(action="group.merged_away").object_id == str(source.pk)


def test_group_merge_person_in_both_is_listed_once_afterwards():
    source, target = two_groups()
    both = Membership.objects.get(group=source, role="leader").person
    group_merge(source=source, target=target, actor=OrganizerFactory())
    assert list(
        Membership.objects.filter(person=both)
        .exclude(status="left")
        .values_list("group__name", "role")
    ) == [("Westside", "leader")]


def test_group_merge_different_regions_refused_without_explicit_confirmation(organizer_client):
    source, target = two_groups(region="NM", locality="Santa Fe", postal_code="87501")
    before = state(source, target)
    preview = organizer_client.get(f"/groups/{source.slug}/merge/", {"target": target.slug})
    assert preview.context["preview"].differences == ["They cover different regions: NM and CO."]
    assert 'name="confirm_differences"' in preview.content.decode()
    response = organizer_client.post(
        f"/groups/{source.slug}/merge/", {"target": target.slug, "confirm": "1"}
    )
    assert response.status_code == 400
    assert "They cover different regions: NM and CO." in response.context["error"]
    assert state(source, target) == before
    response = organizer_client.post(
        f"/groups/{source.slug}/merge/",
        {"target": target.slug, "confirm": "1", "confirm_differences": "1"},
    )
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.status == "merged"
    entry = AuditEntry.objects.get(action="group.merged")
    assert entry.data["differences_confirmed"] == ["They cover different regions: NM and CO."]


def test_group_merge_pending_into_active_refused_without_explicit_confirmation():
    source, target = two_groups(status="pending")
    before = state(source, target)
    with pytest.raises(ValidationError) as caught:
        group_merge(source=source, target=target, actor=OrganizerFactory())
    assert caught.value.messages == [
        "Eastside is waiting for approval; Westside is active. "
        "Tick the box to confirm you want to merge them anyway."
    ]
    assert state(source, target) == before
    group_merge(source=source, target=target, actor=OrganizerFactory(), confirm_differences=True)
    source.refresh_from_db()
    assert source.status == "merged"


def test_group_merge_into_itself_refused_with_message(organizer_client):
    source, target = two_groups()
    before = state(source, target)
    response = organizer_client.post(
        f"/groups/{source.slug}/merge/", {"target": source.slug, "confirm": "1"}
    )
    assert response.status_code == 400
    assert response.context["error"] == (
        "A group can't be merged into itself: choose two different groups."
    )
    assert state(source, target) == before


def test_group_merge_already_merged_group_refused(organizer_client):
    source, target = two_groups()
    other = GroupFactory(name="Northside")
    Group.objects.filter(pk=source.pk).update(status="merged", merged_into=other)
    before = state(source, target)
    response = organizer_client.post(
        f"/groups/{source.slug}/merge/",
        {"target": target.slug, "confirm": "1", "confirm_differences": "1"},
    )
    assert response.status_code == 400
    assert response.context["error"] == "Eastside was already merged into another group."
    assert state(source, target) == before


def test_group_merge_into_inactive_group_refused(organizer_client):
    source, target = two_groups()
    Group.objects.filter(pk=target.pk).update(status="rejected")
    before = state(source, target)
    response = organizer_client.post(
        f"/groups/{source.slug}/merge/",
        {"target": target.slug, "confirm": "1", "confirm_differences": "1"},
    )
    assert response.status_code == 400
    assert response.context["error"] == (
        "Westside is not active (not approved): merge into an active group."
    )
    assert state(source, target) == before


def test_group_merge_unknown_target_says_so(organizer_client):
    source, target = two_groups()
    response = organizer_client.post(
        f"/groups/{source.slug}/merge/", {"target": "no-such-group", "confirm": "1"}
    )
    assert response.status_code == 400
    assert response.context["error"] == "Choose an existing group to merge into."


def test_group_merge_page_without_target_lists_other_active_groups(organizer_client):
    source, target = two_groups()
    GroupFactory(name="Pending one", status="pending")
    response = organizer_client.get(f"/groups/{source.slug}/merge/")
    assert response.status_code == 200
    assert [g.name for g in response.context["targets"]] == ["Westside"]
    assert response.context["preview"] is None


@pytest.mark.parametrize("method", ["get", "post"])
def test_group_merge_by_supporter_forbidden_and_unchanged(client, method):
    source, target = two_groups()
    before = state(source, target)
    client.force_login(UserFactory(person=person_with_email()))
    response = getattr(client, method)(
        f"/groups/{source.slug}/merge/",
        {"target": target.slug, "confirm": "1", "confirm_differences": "1"},
    )
    assert response.status_code == 403
    assert state(source, target) == before


def test_group_merge_preview_writes_nothing_and_counts_overlap():
    source, target = two_groups()
    before = state(source, target)
    preview = group_merge_preview(source=source, target=target)
    assert (preview.members_moving, preview.members_in_both, preview.refusal) == (2, 1, "")
    assert state(source, target) == before


def test_organize_groups_merge_button_only_opens_the_preview(organizer_client):
    GroupFactory(name="Eastside")
    response = organizer_client.get("/groups/organize/")
    body = response.content.decode()
    assert body.count('<form method="get" action="/groups/') == 1
    assert 'method="post" action="/groups/neighbors' not in body


@pytest.mark.parametrize(
    ("target", "error"),
    [
        ("%00", "Null characters are not allowed."),
        ("%3Cscript%3Ealert(1)%3C%2Fscript%3E", "Choose an existing group to merge into."),
        ("%ED%A0%80", "Choose an existing group to merge into."),  # a lone surrogate
        ("x" * 10_000, "Choose an existing group to merge into."),
    ],
)
def test_group_merge_hostile_target_answers_400_and_changes_nothing(
    organizer_client, target, error
):
    source, other = two_groups()
    before = state(source, other)
    response = organizer_client.post(
        f"/groups/{source.slug}/merge/",
        f"target={target}&confirm=1",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert response.context["error"] == error
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert state(source, other) == before
