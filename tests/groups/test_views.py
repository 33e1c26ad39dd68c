import icalendar
import pytest
from django.core import mail

from rallypoint.groups.models import Announcement, Group, Membership
from rallypoint.people.models import Person
from tests.events.factories import EventFactory, person_with_email
from tests.factories import UserFactory
from tests.groups.factories import GroupFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


def member_client(client, group, role="member"):
    membership = MembershipFactory(group=group, role=role)
    client.force_login(UserFactory(person=membership.person))
    return client, membership


@pytest.mark.parametrize("n", [1, 3])
def test_group_list_near_query_count_same_for_1_and_3(client, django_assert_num_queries, n):
    for _ in range(n):
        MembershipFactory(group=GroupFactory())
    with django_assert_num_queries(2):
        response = client.get("/groups/?postal_code=80202&radius=25")
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == n


def test_group_list_unknown_postal_code_says_so(client):
    response = client.get("/groups/?postal_code=00000")
    assert "We don&#x27;t know the postal code “00000”." in response.content.decode()


@pytest.mark.parametrize("n", [1, 3])
def test_group_detail_query_count_same_for_1_and_3(client, django_assert_num_queries, n):
    group = GroupFactory()
    for _ in range(n):
        MembershipFactory(group=group)
        EventFactory(group=group)
    with django_assert_num_queries(5):
        response = client.get(f"/groups/{group.slug}/")
    assert response.status_code == 200
    assert response.context["group"].member_count == n


def test_group_detail_pending_group_is_404_for_visitors(client):
    group = GroupFactory(status="pending")
    assert client.get(f"/groups/{group.slug}/").status_code == 404


def test_group_detail_merged_group_redirects(client):
    target = GroupFactory()
    source = GroupFactory(status="merged", merged_into=target)
    response = client.get(f"/groups/{source.slug}/")
    assert (response.status_code, response["Location"]) == (302, f"/groups/{target.slug}/")


def test_group_join_anonymous_with_email(client):
    group = GroupFactory()
    response = client.post(
        f"/groups/{group.slug}/join/", {"given_name": "Ana", "email": "ana@example.org"}
    )
    assert response.status_code == 302
    membership = Membership.objects.get()
    assert (membership.person.given_name, membership.status) == ("Ana", "active")


def test_group_join_with_a_members_address_does_not_tell_they_are_a_member(client):
    group = GroupFactory(join_policy="approval")
    member = person_with_email("vera@example.org", given_name="Vera")
    MembershipFactory(group=group, person=member)
    stranger = client.post(
        f"/groups/{group.slug}/join/",
        {"given_name": "Mallory", "email": "vera@example.org"},
        follow=True,
    ).content.decode()
    newcomer = client.post(
        f"/groups/{group.slug}/join/",
        {"given_name": "Ben", "email": "ben@example.org"},
        follow=True,
    ).content.decode()
    for page in (stranger, newcomer):
        assert "A leader will confirm your membership soon." in page
        assert "Welcome to" not in page
    assert Membership.objects.get(person=member).status == "active"


def test_group_join_anonymous_bad_email_saves_nothing(client):
    group = GroupFactory()
    response = client.post(f"/groups/{group.slug}/join/", {"given_name": "Ana", "email": "nope"})
    assert response.status_code == 302
    assert Membership.objects.count() == 0
    assert Person.objects.count() == 0


def test_group_join_logged_in_then_leave(client):
    group = GroupFactory()
    user = UserFactory(person=person_with_email())
    client.force_login(user)
    client.post(f"/groups/{group.slug}/join/")
    assert Membership.objects.get().status == "active"
    client.post(f"/groups/{group.slug}/leave/")
    assert Membership.objects.get().status == "left"


def test_group_announce_by_member_is_forbidden_and_unchanged(client):
    group = GroupFactory()
    client, _ = member_client(client, group)
    MembershipFactory(group=group)
    response = client.post(f"/groups/{group.slug}/announce/", {"title": "Hi", "body": "All"})
    assert response.status_code == 403
    assert Announcement.objects.count() == 0
    assert mail.outbox == []


def test_group_announce_by_leader_posts(client):
    group = GroupFactory()
    client, _ = member_client(client, group, role="leader")
    MembershipFactory(group=group)
    response = client.post(f"/groups/{group.slug}/announce/", {"title": "Hi", "body": "All"})
    assert response.status_code == 302
    assert Announcement.objects.get().recipients == 2
    assert "Hi" in client.get(f"/groups/{group.slug}/").content.decode()


def test_group_manage_by_member_is_forbidden(client):
    group = GroupFactory()
    client, _ = member_client(client, group)
    assert client.get(f"/groups/{group.slug}/manage/").status_code == 403


def test_group_member_action_by_member_is_forbidden_and_unchanged(client):
    group = GroupFactory()
    client, _ = member_client(client, group)
    other = MembershipFactory(group=group)
    response = client.post(f"/groups/{group.slug}/members/{other.pk}/", {"action": "make_leader"})
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.role == "member"


def test_group_create_view_by_supporter(client):
    client.force_login(UserFactory())
    response = client.post(
        "/groups/new/",
        {"name": "Eastside", "postal_code": "80012", "radius_miles": "10", "join_policy": "open"},
    )
    group = Group.objects.get()
    assert response["Location"] == f"/groups/{group.slug}/manage/"
    assert (group.status, group.radius_km) == ("pending", 16)


def test_group_create_view_unknown_postal_code(client):
    client.force_login(UserFactory())
    response = client.post(
        "/groups/new/", {"name": "Eastside", "postal_code": "00000", "join_policy": "open"}
    )
    assert response.status_code == 400
    assert "We don&#x27;t know the postal code “00000”." in response.content.decode()
    assert Group.objects.count() == 0


def test_group_feed_is_valid_ics(client):
    group = GroupFactory()
    EventFactory(group=group, title="Group canvass")
    cal = icalendar.Calendar.from_ical(client.get(f"/groups/{group.slug}/events.ics").content)
    assert [str(v["SUMMARY"]) for v in cal.walk("VEVENT")] == ["Group canvass"]


def test_organize_groups_forbidden_for_supporter(supporter_client):
    assert supporter_client.get("/groups/organize/").status_code == 403


@pytest.mark.parametrize("n", [1, 3])
def test_organize_groups_query_count_same_for_1_and_3(
    organizer_client, django_assert_num_queries, n
):
    for _ in range(n):
        MembershipFactory(group=GroupFactory(), role="leader")
    with django_assert_num_queries(6):
        response = organizer_client.get("/groups/organize/")
    assert response.status_code == 200


def test_organize_merge_view_one_click_changes_nothing(organizer_client):
    source, target = GroupFactory(), GroupFactory()
    MembershipFactory(group=source)
    response = organizer_client.post(f"/groups/{source.slug}/merge/", {"target": target.slug})
    assert response.status_code == 400
    source.refresh_from_db()
    assert source.status == "active"
    assert target.memberships.count() == 0


def test_group_page_remembers_the_visitor_who_joined_and_lets_them_leave(client):
    group = GroupFactory()
    response = client.post(
        f"/groups/{group.slug}/join/", {"given_name": "Ana", "email": "ana@example.org"}
    )
    assert response.status_code == 302
    page = client.get(f"/groups/{group.slug}/").content.decode()
    assert "You&#x27;re a member" in page or "You're a member" in page
    assert "Join this group" not in page
    assert client.post(f"/groups/{group.slug}/leave/").status_code == 302
    assert Membership.objects.get().status == "left"
    page = client.get(f"/groups/{group.slug}/").content.decode()
    assert "Join this group" in page


def test_group_page_does_not_show_a_membership_the_typed_address_already_had(client):
    group = GroupFactory()
    member = person_with_email("vera@example.org", given_name="Vera")
    MembershipFactory(group=group, person=member)
    client.post(f"/groups/{group.slug}/join/", {"given_name": "Mal", "email": "vera@example.org"})
    page = client.get(f"/groups/{group.slug}/").content.decode()
    assert "Join this group" in page
    assert "Leave group" not in page
    assert client.post(f"/groups/{group.slug}/leave/").status_code == 302
    assert Membership.objects.get(person=member).status == "active"


def test_group_page_knows_a_supporter_from_their_dashboard_link(client):
    from rallypoint.people.referral import OWN_CODE_SESSION_KEY

    group = GroupFactory()
    person = person_with_email("dana@example.org", given_name="Dana")
    MembershipFactory(group=group, person=person)
    session = client.session
    session[OWN_CODE_SESSION_KEY] = person.share_code
    session.save()
    page = client.get(f"/groups/{group.slug}/").content.decode()
    assert "Leave group" in page


def test_group_join_with_a_misspelt_address_shows_the_form_again_with_the_suggestion(client):
    group = GroupFactory()
    response = client.post(
        f"/groups/{group.slug}/join/", {"given_name": "Ana", "email": "ana@gmial.com"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Did you mean ana@gmail.com?" in page
    assert 'value="Ana"' in page
    assert not Membership.objects.exists()
