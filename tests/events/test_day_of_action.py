"""A distributed day of action: an organizer sets a campaign's event template, supporters host
under it (the host form filled and locked where the template says), one list of its events,
and a "host" goal that counts the events that happened."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from rallypoint.core.models import AuditEntry
from rallypoint.events.models import Event, EventTemplate
from rallypoint.events.services import EventData, event_create, event_host_credit
from rallypoint.events.services.template import TemplateData, event_template_set
from rallypoint.mission.models import Campaign, CampaignStatus
from tests.events.factories import EventFactory, person_with_email
from tests.events.test_views import create_form
from tests.factories import OrganizerFactory, UserFactory
from tests.mission.factories import GoalFactory

pytestmark = pytest.mark.django_db(transaction=True)


def day(days=5):
    return (timezone.now() + timedelta(days=days)).date()


def house_parties(**overrides):
    campaign = Campaign.objects.create(
        name="Clean air", slug="clean-air", status=CampaignStatus.LIVE
    )
    values = {
        "title": "House party for clean air",
        "event_type": "house_party",
        "description": "Watch the film, then write to your council.",
        "starts_on": day(5),
        "ends_on": day(5),
    }
    values.update(overrides)
    template = event_template_set(
        campaign=campaign, data=TemplateData(**values), actor=OrganizerFactory()
    )
    return campaign, template


def test_only_organizers_set_a_template_and_bad_dates_are_explained():
    campaign = Campaign.objects.create(name="Clean air", slug="clean-air")
    data = TemplateData(title="Party", event_type="house_party", starts_on=day(5), ends_on=day(4))
    with pytest.raises(PermissionDenied):
        event_template_set(campaign=campaign, data=data, actor=UserFactory())
    with pytest.raises(ValidationError) as caught:
        event_template_set(campaign=campaign, data=data, actor=OrganizerFactory())
    assert caught.value.message_dict == {"ends_on": ["The last day is on or after the first."]}
    assert EventTemplate.objects.count() == 0


def test_event_under_a_template_takes_its_locked_fields_and_must_fall_on_its_day():
    campaign, template = house_parties()
    start = timezone.now().replace(microsecond=0) + timedelta(days=5)
    start = start.astimezone(timezone.get_current_timezone())
    data = EventData(
        title="My own name",
        event_type="rally",
        description="Mine",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        timezone="America/Denver",
        postal_code="80202",
        campaign=campaign,
    )
    event = event_create(data=data, host=person_with_email())
    assert (event.title, event.event_type, event.description) == (
        "House party for clean air",
        "house_party",
        "<p>Mine</p>",  # the description is not locked (plain text becomes a paragraph)
    )
    data.starts_at += timedelta(days=3)
    data.ends_at += timedelta(days=3)
    with pytest.raises(ValidationError) as caught:
        event_create(data=data, host=person_with_email())
    first = template.starts_on
    assert caught.value.message_dict["starts_at"] == [
        f"Events of “House party for clean air” happen on {first:%a, %b} {first.day}, {first.year}."
    ]


def test_host_form_under_a_template_is_filled_and_locked(client):
    house_parties()
    client.force_login(UserFactory())
    page = client.get("/events/new/?campaign=clean-air").content.decode()
    assert 'value="House party for clean air"' in page
    assert "Part of <strong>Clean air</strong>" in page
    assert "disabled" in page
    when = (timezone.now() + timedelta(days=5)).strftime("%Y-%m-%d")
    form = create_form(
        title="Something else",
        event_type="rally",
        starts_at=f"{when}T18:00",
        ends_at=f"{when}T20:00",
    )
    response = client.post("/events/new/?campaign=clean-air", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = Event.objects.get()
    assert (event.title, event.event_type, event.campaign.slug) == (
        "House party for clean air",
        "house_party",
        "clean-air",
    )


def test_host_form_outside_the_days_is_refused(client):
    house_parties()
    client.force_login(UserFactory())
    when = (timezone.now() + timedelta(days=8)).strftime("%Y-%m-%d")
    response = client.post(
        "/events/new/?campaign=clean-air",
        create_form(starts_at=f"{when}T18:00", ends_at=f"{when}T20:00"),
    )
    assert response.status_code == 400
    assert "happen on" in response.content.decode()
    assert Event.objects.count() == 0


def test_campaign_events_page_shows_the_day_and_its_host_goal_counting_events_that_happened(
    client,
):
    campaign, _ = house_parties(starts_on=day(-1), ends_on=day(5))
    GoalFactory(campaign=campaign, kind="host", target=10, title="")
    done = EventFactory(
        campaign=campaign,
        starts_at=timezone.now() - timedelta(hours=3),
        ends_at=timezone.now() - timedelta(hours=1),
    )
    from tests.events.factories import EventHostFactory

    EventHostFactory(event=done)
    EventFactory(campaign=campaign)
    assert event_host_credit(event_id=done.pk)
    page = client.get("/events/?campaign=clean-air").content.decode()
    assert "House party for clean air" in page
    assert "2 events so far." in page
    assert "<strong>1</strong> of 10 so far" in page
    assert 'href="/events/new/?campaign=clean-air"' in page


def test_organizer_sets_the_template_from_the_events_page(client):
    campaign = Campaign.objects.create(
        name="Clean air", slug="clean-air", status=CampaignStatus.LIVE
    )
    client.force_login(OrganizerFactory())
    assert "set up a day of action" in client.get("/events/organize/").content.decode()
    url = "/events/organize/campaign/clean-air/"
    bad = client.post(url, {"title": "<b>Party</b>", "event_type": "house_party"})
    assert bad.status_code == 400
    assert EventTemplate.objects.count() == 0
    response = client.post(
        url,
        {
            "title": "House party",
            "event_type": "house_party",
            "starts_on": "2031-10-12",
            "ends_on": "2031-10-12",
            "lock_title": "on",
        },
    )
    assert response.status_code == 302
    template = campaign.event_template
    assert (template.title, template.starts_on, template.locked) == (
        "House party",
        date(2031, 10, 12),
        ["title"],
    )
    assert AuditEntry.objects.filter(action="event.template.set").count() == 1
    client.post(url, {"remove": "1"})
    assert EventTemplate.objects.count() == 0
