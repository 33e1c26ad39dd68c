import pytest
from django.core.exceptions import ValidationError

from rallypoint.core.models import AuditEntry
from rallypoint.mission.models import Campaign, Goal
from rallypoint.mission.services import (
    campaign_create,
    campaign_points_set,
    campaign_share_texts_set,
    campaign_update,
    goal_create,
    goal_delete,
    goal_update,
    story_clean,
)
from tests.mission.factories import CampaignFactory, GoalFactory

pytestmark = pytest.mark.django_db


def test_story_clean_keeps_formatting_and_makes_links_safe():
    raw = (
        '<h2>Why</h2><p onclick="x()">Read <a href="https://a.example" target="_blank">this</a>'
        '</p><script>alert(1)</script><a href="javascript:alert(1)">bad</a><img src=x>'
    )
    assert story_clean(raw) == (
        '<h2>Why</h2><p>Read <a href="https://a.example" rel="noopener noreferrer">this</a>'
        '</p><a rel="noopener noreferrer">bad</a>'
    )


def test_story_clean_turns_plain_text_into_paragraphs():
    assert story_clean("One <3\nstill one\r\n\r\nTwo") == "<p>One &lt;3<br>still one</p><p>Two</p>"


def test_story_clean_plain_text_with_inline_tags_still_gets_paragraphs():
    raw = "Kids walk.\n\n<script>alert(1)</script>Slow <b>down</b>."
    assert story_clean(raw) == "<p>Kids walk.</p><p>Slow <b>down</b>.</p>"


def test_campaign_create_makes_slug_and_audits(organizer):
    campaign = campaign_create(actor=organizer, name="Fund Our Schools", story="<b>Now</b>")
    assert (campaign.slug, campaign.status, campaign.story) == (
        "fund-our-schools",
        "draft",
        "<p><b>Now</b></p>",
    )
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor) == ("campaign.created", organizer)


def test_campaign_create_rejects_taken_and_reserved_slugs(organizer):
    CampaignFactory(slug="schools")
    with pytest.raises(ValidationError) as taken:
        campaign_create(actor=organizer, name="Schools", slug="schools")
    assert taken.value.message_dict == {"slug": ["Another campaign already uses this address."]}
    with pytest.raises(ValidationError) as reserved:
        campaign_create(actor=organizer, name="Organize")
    assert reserved.value.message_dict == {
        "slug": ["“organize” is reserved. Choose another address."]
    }
    assert Campaign.objects.count() == 1


def test_campaign_create_rejects_end_before_start(organizer):
    from django.utils import timezone

    now = timezone.now()
    with pytest.raises(ValidationError) as error:
        campaign_create(actor=organizer, name="X", starts_at=now, ends_at=now)
    assert error.value.message_dict == {"ends_at": ["The end has to come after the start."]}


def test_campaign_update_changes_fields_and_sanitises(organizer):
    campaign = CampaignFactory(status="draft")
    campaign_update(actor=organizer, campaign=campaign, status="live", story="<script>x</script>Hi")
    campaign.refresh_from_db()
    assert (campaign.status, campaign.story) == ("live", "<p>Hi</p>")
    entry = AuditEntry.objects.get(action="campaign.updated")
    assert entry.data["before"]["status"] == "draft"
    assert entry.data["after"]["status"] == "live"


def test_campaign_update_rejects_unknown_field(organizer):
    with pytest.raises(TypeError):
        campaign_update(actor=organizer, campaign=CampaignFactory(), points={"sign": 9})


def test_share_texts_store_only_changes(organizer):
    campaign = CampaignFactory()
    campaign_share_texts_set(
        actor=organizer,
        campaign=campaign,
        texts={
            "x": "  Join me: {title}  ",
            "sms": "I just took action for {title}. Will you join me?",
        },
    )
    campaign.refresh_from_db()
    assert campaign.share_texts == {"x": "Join me: {title}"}


def test_share_texts_too_long_rejected(organizer):
    campaign = CampaignFactory()
    with pytest.raises(ValidationError) as error:
        campaign_share_texts_set(actor=organizer, campaign=campaign, texts={"x": "a" * 501})
    assert error.value.message_dict == {"x": ["Keep this under 500 characters."]}
    campaign.refresh_from_db()
    assert campaign.share_texts == {}


def test_points_store_only_overrides_and_validate(organizer):
    campaign = CampaignFactory()
    campaign_points_set(actor=organizer, campaign=campaign, points={"sign": 1, "recruit": 8})
    campaign.refresh_from_db()
    assert campaign.points == {"recruit": 8}
    with pytest.raises(ValidationError) as error:
        campaign_points_set(actor=organizer, campaign=campaign, points={"sign": -1, "fly": 2})
    assert error.value.message_dict == {
        "sign": ["Use a number from 0 to 1000."],
        "fly": ["Unknown activity."],
    }
    campaign.refresh_from_db()
    assert campaign.points == {"recruit": 8}


def test_goal_create_validates_and_orders(organizer):
    campaign = CampaignFactory()
    first = goal_create(actor=organizer, campaign=campaign, kind="sign", target=100)
    second = goal_create(actor=organizer, campaign=campaign, kind="sign", target=50, region="oh")
    assert (first.position, second.position, second.region) == (0, 1, "OH")
    assert second.display_title == "50 signatures from OH"
    with pytest.raises(ValidationError) as error:
        goal_create(actor=organizer, campaign=campaign, kind="nope", target=0)
    assert error.value.message_dict == {
        "kind": ["Choose what this goal counts."],
        "target": ["The target has to be a whole number above zero."],
    }
    assert Goal.objects.count() == 2


def test_goal_update_and_delete_audited(organizer):
    goal = GoalFactory(kind="sign", target=10)
    goal_update(actor=organizer, goal=goal, kind="donate", target=5000, title="Raise $5k")
    goal.refresh_from_db()
    assert (goal.kind, goal.target, goal.display_title, goal.per_unit) == (
        "donate",
        5000,
        "Raise $5k",
        100,
    )
    goal_delete(actor=organizer, goal=goal)
    assert Goal.objects.count() == 0
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "goal.updated",
        "goal.deleted",
    ]
