import pytest
from django.urls import reverse

from rallypoint.ledger.services import activity_record
from tests.factories import PersonFactory, PostalAddressFactory
from tests.mission.factories import CampaignFactory, GoalFactory


@pytest.mark.django_db
def test_mission_page_shows_goal_progress_and_feed(client):
    campaign = CampaignFactory(slug="schools", name="Fund our schools")
    GoalFactory(campaign=campaign, kind="sign", target=10)
    ana = PersonFactory(given_name="Ana", family_name="Garcia")
    PostalAddressFactory(person=ana, locality="Denver")
    for _ in range(3):
        activity_record(person=PersonFactory(), kind="sign", campaign=campaign)
    activity_record(person=ana, kind="sign", campaign=campaign)
    response = client.get(reverse("mission:detail", args=["schools"]))
    assert response.status_code == 200
    goal = response.context["goals"][0]
    assert (goal.current, goal.target, goal.percent) == (4, 10, 40)
    assert response.context["feed"][0].sentence == "Ana G. from Denver signed the petition"
    assert b'property="og:title" content="Fund our schools"' in response.content
