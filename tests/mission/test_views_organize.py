import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from rallypoint.mission.models import Campaign, Goal
from tests.mission.factories import CampaignFactory, GoalFactory

pytestmark = pytest.mark.django_db

NEW = {"name": "Fund Our Schools", "slug": "", "summary": "Now.", "story": "", "status": "live"}


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "#1d4ed8").save(buffer, "PNG")
    return SimpleUploadedFile("banner.png", buffer.getvalue(), content_type="image/png")


def test_campaign_new_anonymous_goes_to_login_and_creates_nothing(client):
    response = client.post(reverse("mission:organize_new"), NEW)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert Campaign.objects.count() == 0


def test_campaign_new_forbidden_for_supporter(supporter_client):
    assert supporter_client.post(reverse("mission:organize_new"), NEW).status_code == 403
    assert Campaign.objects.count() == 0


def test_campaign_edit_forbidden_for_supporter_changes_nothing(supporter_client):
    campaign = CampaignFactory(name="Before", slug="before")
    response = supporter_client.post(
        reverse("mission:organize_edit", args=["before"]), {**NEW, "name": "After"}
    )
    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.name == "Before"


def test_campaign_new_creates_and_goes_to_goals(organizer_client):
    response = organizer_client.post(reverse("mission:organize_new"), NEW)
    campaign = Campaign.objects.get()
    assert response["Location"] == reverse("mission:organize_goals", args=[campaign.slug])
    assert (campaign.name, campaign.slug, campaign.status) == (
        "Fund Our Schools",
        "fund-our-schools",
        "live",
    )


def test_campaign_new_with_image_upload(organizer_client):
    organizer_client.post(reverse("mission:organize_new"), {**NEW, "image": _png()})
    campaign = Campaign.objects.get()
    assert campaign.image.name.startswith("campaigns/banner")
    assert campaign.picture_url == campaign.image.url


def test_campaign_new_rejects_non_image_upload_keeps_input(organizer_client):
    fake = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    response = organizer_client.post(reverse("mission:organize_new"), {**NEW, "image": fake})
    assert response.status_code == 200
    assert "Upload a valid image." in response.content.decode()
    assert 'value="Fund Our Schools"' in response.content.decode()
    assert Campaign.objects.count() == 0


def test_campaign_new_end_before_start_explained(organizer_client):
    data = {**NEW, "starts_at": "2030-05-02T10:00", "ends_at": "2030-05-01T10:00"}
    response = organizer_client.post(reverse("mission:organize_new"), data)
    assert response.status_code == 200
    assert "The end has to come after the start." in response.content.decode()
    assert Campaign.objects.count() == 0


def test_campaign_new_duplicate_slug_explained(organizer_client):
    CampaignFactory(slug="fund-our-schools")
    response = organizer_client.post(reverse("mission:organize_new"), NEW)
    assert "Another campaign already uses this address." in response.content.decode()
    assert Campaign.objects.count() == 1


def test_campaign_edit_saves_and_removes_image(organizer_client):
    organizer_client.post(reverse("mission:organize_new"), {**NEW, "image": _png()})
    campaign = Campaign.objects.get()
    organizer_client.post(
        reverse("mission:organize_edit", args=[campaign.slug]),
        {**NEW, "slug": "schools", "remove_image": "on"},
    )
    campaign.refresh_from_db()
    assert (campaign.slug, campaign.image.name) == ("schools", "")


def test_campaign_list_query_count_same_for_one_and_three(
    organizer_client, django_assert_num_queries
):
    CampaignFactory()
    organizer_client.get(reverse("mission:organize_list"))  # warm the session
    with django_assert_num_queries(3):
        response = organizer_client.get(reverse("mission:organize_list"))
    assert len(response.context["campaigns"]) == 1
    CampaignFactory()
    CampaignFactory()
    with django_assert_num_queries(3):
        response = organizer_client.get(reverse("mission:organize_list"))
    assert len(response.context["campaigns"]) == 3


def test_goal_add_edit_delete(organizer_client):
    campaign = CampaignFactory(slug="schools")
    url = reverse("mission:organize_goals", args=["schools"])
    organizer_client.post(url, {"kind": "sign", "target": "2500", "region": "oh"})
    goal = Goal.objects.get()
    assert (goal.campaign, goal.kind, goal.target, goal.region) == (campaign, "sign", 2500, "OH")
    organizer_client.post(
        reverse("mission:organize_goal_edit", args=["schools", goal.pk]),
        {"kind": "pledge", "target": "10", "title": "Ten pledges", "position": "2"},
    )
    goal.refresh_from_db()
    assert (goal.kind, goal.target, goal.title, goal.region, goal.position) == (
        "pledge",
        10,
        "Ten pledges",
        "",
        2,
    )
    organizer_client.post(reverse("mission:organize_goal_delete", args=["schools", goal.pk]))
    assert Goal.objects.count() == 0


def test_goal_bad_target_explained_and_nothing_saved(organizer_client):
    CampaignFactory(slug="schools")
    response = organizer_client.post(
        reverse("mission:organize_goals", args=["schools"]), {"kind": "sign", "target": "0"}
    )
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 1." in response.content.decode()
    assert Goal.objects.count() == 0


def test_goal_delete_forbidden_for_supporter(supporter_client):
    goal = GoalFactory()
    url = reverse("mission:organize_goal_delete", args=[goal.campaign.slug, goal.pk])
    assert supporter_client.post(url).status_code == 403
    assert Goal.objects.count() == 1


def test_goal_delete_get_asks_first_and_changes_nothing(organizer_client):
    goal = GoalFactory(title="Ten pledges")
    url = reverse("mission:organize_goal_delete", args=[goal.campaign.slug, goal.pk])
    response = organizer_client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Remove the goal “Ten pledges”?" in body
    assert '<button class="button button-danger" type="submit">Remove goal</button>' in body
    assert Goal.objects.count() == 1


def test_goals_page_remove_is_a_link_to_the_confirmation(organizer_client):
    goal = GoalFactory()
    url = reverse("mission:organize_goal_delete", args=[goal.campaign.slug, goal.pk])
    body = organizer_client.get(
        reverse("mission:organize_goals", args=[goal.campaign.slug])
    ).content.decode()
    assert f'action="{url}"' not in body
    assert f'href="{url}"' in body


def test_share_texts_page_saves(organizer_client):
    campaign = CampaignFactory(slug="schools")
    organizer_client.post(
        reverse("mission:organize_share", args=["schools"]), {"x": "Join me for {title}"}
    )
    campaign.refresh_from_db()
    assert campaign.share_texts == {"x": "Join me for {title}"}


def test_points_page_saves_and_rejects_negative(organizer_client):
    campaign = CampaignFactory(slug="schools")
    url = reverse("mission:organize_points", args=["schools"])
    form = organizer_client.get(url).context["form"]
    data = {name: field.initial for name, field in form.fields.items()}
    organizer_client.post(url, {**data, "recruit": "9"})
    campaign.refresh_from_db()
    assert campaign.points == {"recruit": 9}
    response = organizer_client.post(url, {**data, "sign": "-4"})
    assert "Ensure this value is greater than or equal to 0." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.points == {"recruit": 9}


def test_goal_with_segment(organizer_client):
    from rallypoint.segments.models import Segment

    segment = Segment.objects.create(name="Ohio volunteers", slug="ohio-volunteers")
    CampaignFactory(slug="schools")
    organizer_client.post(
        reverse("mission:organize_goals", args=["schools"]),
        {"kind": "sign", "target": "50", "segment": str(segment.pk)},
    )
    goal = Goal.objects.get()
    assert (goal.segment, goal.display_title) == (segment, "50 signatures from Ohio volunteers")
    page = organizer_client.get(reverse("mission:organize_goals", args=["schools"]))
    assert "Ohio volunteers only" in page.content.decode()


def test_goal_with_unknown_segment_explained(organizer_client):
    CampaignFactory(slug="schools")
    response = organizer_client.post(
        reverse("mission:organize_goals", args=["schools"]),
        {"kind": "sign", "target": "50", "segment": "999"},
    )
    assert "Select a valid choice." in response.content.decode()
    assert Goal.objects.count() == 0
