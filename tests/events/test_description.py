"""An event's description is rich text: written in the shared editor (core.widgets.RichTextarea)
on the organizer's and the supporter's host form, sanitised when stored (core.richtext, the
rule of action descriptions too), shown as it is on the event page. Descriptions stored as
plain text before are turned into the HTML that reads the same (migration 0007)."""

import importlib
from datetime import date, timedelta

import icalendar
import pytest
from django.apps import apps

from rallypoint.core.richtext import html_clean, html_text, rich_text_clean
from rallypoint.events.models import Event, EventTemplate
from rallypoint.events.services.template import TemplateData, event_template_set
from rallypoint.mission.models import Campaign
from tests.events.factories import EventFactory, EventHostFactory
from tests.events.test_views import create_form, host_client

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = (
    '<h2>Plan</h2><p>Bring <strong>water</strong> &amp; a <a href="https://ex.org/map">map</a>'
    '</p><script>alert(1)</script><p><img src=x onerror="alert(2)">'
    '<a href="javascript:alert(3)">click</a></p>'
)


def _migration():
    return importlib.import_module("rallypoint.events.migrations.0007_descriptions_rich_text")


def test_rich_text_clean_keeps_formatting_and_drops_what_runs():
    clean = rich_text_clean(HOSTILE)
    assert "<h2>Plan</h2>" in clean
    assert "<strong>water</strong>" in clean
    assert '<a href="https://ex.org/map" rel="noopener nofollow">map</a>' in clean
    for bad in ("<script", "alert(1)", "<img", "onerror", "javascript:"):
        assert bad not in clean
    # The same rule as an action's description.
    assert clean == html_clean(HOSTILE)


def test_rich_text_clean_turns_plain_text_into_paragraphs():
    typed = "Bring water.\nAnd a chair.\n\nKids < 12 free & welcome"
    assert rich_text_clean(typed) == (
        "<p>Bring water.<br>And a chair.</p><p>Kids &lt; 12 free &amp; welcome</p>"
    )
    assert rich_text_clean("  ") == ""


def test_html_text_reads_like_the_page():
    markup = "<p>Hi &amp; welcome</p><ul><li>one</li><li>two</li></ul><p>a<br>b</p>"
    assert html_text(markup) == "Hi & welcome\n\n- one\n- two\n\na\nb"


def _uses_the_editor(page: str) -> None:
    assert 'name="description"' in page
    assert 'data-rich-editor="1"' in page
    assert "rallypoint/rich-editor.js" in page
    assert "quill-2.0.3/quill.js" in page


def test_supporter_host_form_uses_the_rich_text_editor(client):
    client, _, _ = host_client(client)
    _uses_the_editor(client.get("/events/new/").content.decode())


def test_organizer_event_form_uses_the_rich_text_editor(organizer_client):
    _uses_the_editor(organizer_client.get("/events/new/").content.decode())


def test_organizer_day_of_action_form_uses_the_rich_text_editor(organizer_client):
    Campaign.objects.create(name="Clean air", slug="clean-air")
    page = organizer_client.get("/events/organize/campaign/clean-air/").content.decode()
    _uses_the_editor(page)


def test_hosted_event_description_is_sanitised_and_shown_formatted(client):
    client, _, _ = host_client(client)
    response = client.post("/events/new/", create_form(description=HOSTILE))
    assert response.status_code == 302
    event = Event.objects.latest("id")
    assert event.description == html_clean(HOSTILE)
    page = client.get(event.get_absolute_url()).content.decode()
    assert "<h2>Plan</h2>" in page
    assert "<strong>water</strong>" in page
    assert "alert(1)" not in page and "onerror" not in page and "javascript:alert" not in page


def test_description_typed_without_the_editor_keeps_its_line_breaks(client):
    client, _, _ = host_client(client)
    typed = "Meet at the gate.\nBring gloves.\n\nAsk for Sam."
    client.post("/events/new/", create_form(description=typed))
    event = Event.objects.latest("id")
    page = client.get(event.get_absolute_url()).content.decode()
    assert "<p>Meet at the gate.<br>Bring gloves.</p><p>Ask for Sam.</p>" in page


def test_too_long_description_is_refused_with_a_message(client):
    client, _, _ = host_client(client)
    response = client.post("/events/new/", create_form(description="x" * 20001))
    assert response.status_code == 400
    assert "Ensure this value has at most 20000 characters" in response.content.decode()
    assert not Event.objects.filter(title="Backyard house party").exists()


def test_editing_shows_the_stored_html_in_the_editor(client):
    client, event, _ = host_client(client, description="<p>Hello <em>there</em></p>")
    page = client.get(f"/events/{event.uuid}/edit/").content.decode()
    assert "&lt;p&gt;Hello &lt;em&gt;there&lt;/em&gt;&lt;/p&gt;</textarea>" in page


def test_migration_turns_old_plain_text_into_html_that_reads_the_same():
    old = "Doors at 6.\nFood at 7.\n\nBring <b>nothing</b> & smile"
    event = EventFactory(description=old)
    blank = EventFactory(description="")
    campaign = Campaign.objects.create(name="Clean air", slug="clean-air")
    template = EventTemplate.objects.create(
        campaign=campaign,
        title="House party",
        event_type="house_party",
        description="Line one\nLine two",
        starts_on=date.today(),
        ends_on=date.today(),
    )
    _migration().forwards(apps, None)
    event.refresh_from_db(), blank.refresh_from_db(), template.refresh_from_db()
    assert event.description == (
        "<p>Doors at 6.<br>Food at 7.</p><p>Bring &lt;b&gt;nothing&lt;/b&gt; &amp; smile</p>"
    )
    assert blank.description == ""
    assert template.description == "<p>Line one<br>Line two</p>"
    # Stored as the sanitiser would keep it: nothing more to strip.
    assert html_clean(event.description) == event.description
    _migration().backwards(apps, None)
    event.refresh_from_db()
    assert event.description == "Doors at 6.\nFood at 7.\n\nBring <b>nothing</b> & smile"


def test_migrated_description_shows_its_line_breaks_on_the_event_page(client):
    event = EventFactory(description="First line\nSecond line\n\nNew paragraph <3")
    _migration().forwards(apps, None)
    page = client.get(event.get_absolute_url()).content.decode()
    assert "<p>First line<br>Second line</p><p>New paragraph &lt;3</p>" in page


def test_calendar_entry_has_the_description_as_plain_text(client):
    event = EventFactory(description="<p>Bring <strong>water</strong> &amp; snacks</p>")
    body = client.get(f"/events/{event.uuid}/event.ics").content
    vevent = next(c for c in icalendar.Calendar.from_ical(body).walk("VEVENT"))
    assert str(vevent["description"]).startswith("Bring water & snacks\n\nDetails and RSVP:")


def test_day_of_action_description_is_sanitised_and_locked_one_shown_read_only(client):
    from rallypoint.mission.models import CampaignStatus
    from tests.factories import OrganizerFactory

    organizer = OrganizerFactory()
    campaign = Campaign.objects.create(
        name="Clean air", slug="clean-air", status=CampaignStatus.LIVE
    )
    template = event_template_set(
        campaign=campaign,
        actor=organizer,
        data=TemplateData(
            title="House party for clean air",
            event_type="house_party",
            description="<p>Talk about <em>air</em></p><script>x()</script>",
            starts_on=date.today() + timedelta(days=3),
            ends_on=date.today() + timedelta(days=10),
            lock_description=True,
        ),
    )
    assert template.description == "<p>Talk about <em>air</em></p>"
    listing = client.get("/events/?campaign=clean-air").content.decode()
    assert "<p>Talk about <em>air</em></p>" in listing
    host = EventHostFactory().person
    from tests.factories import UserFactory

    client.force_login(UserFactory(person=host))
    form = client.get("/events/new/?campaign=clean-air").content.decode()
    assert '<div class="event-description locked"><p>Talk about <em>air</em></p></div>' in form
    assert 'data-rich-editor="1" disabled' not in form
