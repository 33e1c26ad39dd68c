import pytest


@pytest.mark.django_db
def test_home_renders_join_call_to_action(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Join the movement" in response.content


@pytest.mark.django_db
def test_organize_sends_anonymous_visitor_to_login(client):
    response = client.get("/organize/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_organize_forbidden_for_supporter(supporter_client):
    assert supporter_client.get("/organize/").status_code == 403


def test_organize_shows_counts_for_organizer(organizer_client):
    response = organizer_client.get("/organize/")
    assert response.status_code == 200
    assert response.context["stats"]["people"] == 0


def test_organize_lists_latest_acts_and_pending_approvals(organizer_client):
    from rallypoint.events.models import Approval
    from rallypoint.ledger.services import activity_record
    from tests.events.factories import EventFactory
    from tests.factories import PersonFactory

    person = PersonFactory(given_name="Ana", family_name="Diaz")
    activity_record(person=person, kind="join")
    EventFactory(approval=Approval.PENDING)
    response = organizer_client.get("/organize/")
    assert response.status_code == 200
    assert response.context["pending_events"] == 1
    assert [act.person_id for act in response.context["recent_acts"]] == [person.pk]
    assert b"Ana Diaz" in response.content
    assert b"1 event waiting for approval" in response.content
