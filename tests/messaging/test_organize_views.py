"""The organizer's mailing pages: who may open them, what bad input answers, and that each page
does what its buttons say (through the services)."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rallypoint.messaging.models import Mailing, MailingStatus
from rallypoint.people.models import EmailStatus
from tests.actions.factories import ActionFactory
from tests.events.factories import person_with_email
from tests.factories import OrganizerFactory, PostalAddressFactory, TaggingFactory
from tests.messaging.factories import (
    DeliveryFactory,
    MailingFactory,
    SegmentFactory,
    ab_mailing,
    audience_of,
    segment_tag,
    subscriber,
)
from tests.mission.factories import CampaignFactory

FROM = "Fund Our Schools <hello@fundourschools.org>"


@pytest.fixture(autouse=True)
def _from_addresses(settings):
    settings.MAILING_FROM_ADDRESSES = [FROM, "news@fundourschools.org"]


def compose_data(**overrides):
    data = {
        "name": "",
        "subject": "Will you sign, {{ first_name | friend }}?",
        "preview_text": "One minute",
        "from_name": "Fund Our Schools",
        "from_address": "hello@fundourschools.org",
        "reply_to": "",
        "body_html": "<p>Hi {{ first_name | friend }}</p>",
        "kind": "news",
        "campaign": "",
        "track_opens": "on",
        "track_clicks": "on",
        "ab_sample_percent": "",
        "ab_wait_minutes": "240",
        "ab_metric": "clicks",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- permissions ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["messaging:list", "messaging:new"])
def test_pages_are_for_organizers_only(client, supporter, name):
    url = reverse(name)
    assert client.get(url).status_code == 302
    assert client.get(url).url.startswith(reverse("accounts:login"))
    client.force_login(supporter)
    assert client.get(url).status_code == 403


@pytest.mark.django_db
def test_supporter_cannot_create_or_delete(supporter_client):
    mailing = MailingFactory()
    assert supporter_client.post(reverse("messaging:new"), compose_data()).status_code == 403
    assert supporter_client.post(reverse("messaging:delete", args=[mailing.pk])).status_code == 403
    assert (
        supporter_client.post(reverse("messaging:duplicate", args=[mailing.pk])).status_code == 403
    )
    assert list(Mailing.objects.all()) == [mailing]


@pytest.mark.django_db
def test_unknown_mailing_is_a_404(organizer_client):
    assert organizer_client.get(reverse("messaging:detail", args=[999999])).status_code == 404
    assert organizer_client.get(reverse("messaging:report", args=[999999])).status_code == 404


# --- the list ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_shows_each_status_with_its_actions(organizer_client):
    draft = MailingFactory(name="Draft one")
    sending = MailingFactory(name="Going out", status=MailingStatus.SENDING, total_targeted=4)
    sent = MailingFactory(name="Done", status=MailingStatus.SENT, total_targeted=2)
    DeliveryFactory(mailing=sending, status="sent")
    page = organizer_client.get(reverse("messaging:list"))
    html = page.content.decode()
    assert page.status_code == 200
    for mailing in (draft, sending, sent):
        assert mailing.name in html
    assert reverse("messaging:delete", args=[draft.pk]) in html
    assert reverse("messaging:delete", args=[sent.pk]) not in html
    assert 'aria-valuenow="1"' in html and 'aria-valuemax="4"' in html
    drafts = organizer_client.get(reverse("messaging:list") + "?status=drafts").content.decode()
    assert "Draft one" in drafts and "Going out" not in drafts


@pytest.mark.django_db
def test_list_query_count_does_not_grow_with_mailings(organizer_client):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert organizer_client.get(reverse("messaging:list")).status_code == 200
        return len(captured)

    MailingFactory(status=MailingStatus.SENDING, campaign=CampaignFactory())
    one = queries()
    MailingFactory(status=MailingStatus.SENDING, campaign=CampaignFactory())
    MailingFactory(status=MailingStatus.SENT, campaign=CampaignFactory())
    assert queries() == one


@pytest.mark.django_db
def test_organizer_menu_has_email(organizer_client):
    html = organizer_client.get(reverse("core:organize")).content.decode()
    assert f'<a href="{reverse("messaging:list")}">Email</a>' in html


# --- compose ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_new_page_offers_the_verified_addresses_and_a_plain_textarea(organizer_client):
    SegmentFactory(name="Volunteers")
    html = organizer_client.get(reverse("messaging:new")).content.decode()
    assert '<option value="hello@fundourschools.org" selected>' in html
    assert "news@fundourschools.org" in html
    assert '<textarea name="body_html"' in html
    assert "vendor/quill-2.0.3/quill.js" in html
    assert 'type="checkbox" name="include_segments"' in html
    assert "minus unsubscribed, bounced and complained addresses" in html


@pytest.mark.django_db
def test_save_draft_creates_it_and_stays_on_the_editor(organizer_client):
    segment = SegmentFactory()
    response = organizer_client.post(
        reverse("messaging:new"),
        compose_data(include_segments=[str(segment.pk)], save="1"),
    )
    mailing = Mailing.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("messaging:edit", args=[mailing.pk])
    assert mailing.subject == "Will you sign, {{ first_name | friend }}?"
    assert list(mailing.include_segments.all()) == [segment]
    assert (mailing.track_opens, mailing.track_clicks) == (True, True)


@pytest.mark.django_db
def test_save_and_review_goes_to_the_review_page(organizer_client):
    response = organizer_client.post(reverse("messaging:new"), compose_data(review="1"))
    assert response.url == reverse("messaging:detail", args=[Mailing.objects.get().pk])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"from_address": "ceo@elsewhere.example"}, "Select a valid choice."),
        ({"reply_to": "not-an-address"}, "Enter a valid email address."),
        ({"subject": "Hi\x00there"}, "Null characters are not allowed."),
        ({"include_segments": ["999999"]}, "Select a valid choice."),
        ({"include_segments": ["abc"]}, "“abc” is not a valid value."),
        ({"ab_sample_percent": "250"}, "Ensure this value is less than or equal to 100."),
        (
            {"subject_b": "Another subject", "ab_sample_percent": ""},
            "Say what share of the audience gets the test (e.g. 20%).",
        ),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(organizer_client, overrides, message):
    response = organizer_client.post(reverse("messaging:new"), compose_data(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Mailing.objects.count() == 0


@pytest.mark.django_db
def test_huge_input_is_refused_with_a_clear_message(organizer_client):
    response = organizer_client.post(
        reverse("messaging:new"),
        compose_data(subject="x" * 5000, body_html="<p>" + "word " * 120_000 + "</p>"),
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Ensure this value has at most 300 characters (it has 5000)." in html
    response = organizer_client.post(
        reverse("messaging:new"), compose_data(body_html="<p>" + "word " * 120_000 + "</p>")
    )
    assert response.status_code == 400
    assert "The message is too long to send." in response.content.decode()
    assert Mailing.objects.count() == 0


@pytest.mark.django_db
def test_count_button_counts_without_saving(organizer_client):
    segment, _ = audience_of(2)
    subscriber(segment, status=EmailStatus.UNSUBSCRIBED)
    response = organizer_client.post(
        reverse("messaging:new"), compose_data(include_segments=[str(segment.pk)], count="1")
    )
    assert response.status_code == 200
    assert 'data-audience-count="2"' in response.content.decode()
    assert Mailing.objects.count() == 0


@pytest.mark.django_db
def test_edit_saves_a_draft_and_hostile_html_is_sanitised(organizer_client):
    mailing = MailingFactory()
    body = '<p>Hi</p><img src=x onerror="alert(1)"><a href="javascript:alert(1)">x</a>'
    response = organizer_client.post(
        reverse("messaging:edit", args=[mailing.pk]), compose_data(body_html=body, save="1")
    )
    assert response.status_code == 302
    mailing.refresh_from_db()
    assert mailing.body_html == '<p>Hi</p><a rel="noopener">x</a>'


@pytest.mark.django_db
def test_edit_of_a_sent_mailing_sends_back_to_its_page(organizer_client):
    mailing = MailingFactory(status=MailingStatus.SENT, subject="Kept")
    url = reverse("messaging:edit", args=[mailing.pk])
    response = organizer_client.post(url, compose_data(subject="Changed", save="1"))
    assert response.status_code == 302
    assert response.url == reverse("messaging:detail", args=[mailing.pk])
    mailing.refresh_from_db()
    assert mailing.subject == "Kept"


@pytest.mark.django_db
def test_autosave_saves_and_says_so(organizer_client):
    mailing = MailingFactory()
    response = organizer_client.post(
        reverse("messaging:autosave", args=[mailing.pk]), compose_data(subject="Autosaved")
    )
    assert response.status_code == 200
    assert "Draft saved at" in response.content.decode()
    mailing.refresh_from_db()
    assert mailing.subject == "Autosaved"


@pytest.mark.django_db
def test_autosave_of_a_sent_mailing_changes_nothing(organizer_client):
    mailing = MailingFactory(status=MailingStatus.SENT, subject="Kept")
    response = organizer_client.post(
        reverse("messaging:autosave", args=[mailing.pk]), compose_data(subject="Changed")
    )
    assert "Not saved: Only a draft can be changed" in response.content.decode()
    mailing.refresh_from_db()
    assert mailing.subject == "Kept"


# --- the live count ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_audience_count_counts_the_unsaved_choice_minus_suppressed(organizer_client):
    segment, people = audience_of(3)
    subscriber(segment, status=EmailStatus.BOUNCING)
    subscriber(segment, status=EmailStatus.SPAM_COMPLAINT)
    other, _ = audience_of(0)
    subscriber(other)
    TaggingFactory(person=people[0], tag=segment_tag(other))
    response = organizer_client.post(
        reverse("messaging:audience_count"),
        {"include_segments": [segment.pk], "exclude_segments": [other.pk], "kind": "news"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-audience-count="2"' in html
    assert "minus unsubscribed, bounced and complained addresses" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "text"),
    [
        ({}, "Choose at least one segment to send to."),
        ({"include_segments": ["x"]}, "Choose segments from the list."),
        ({"include_segments": ["999999"]}, "Choose segments from the list."),
    ],
)
def test_audience_count_bad_or_empty_choice(organizer_client, data, text):
    response = organizer_client.post(reverse("messaging:audience_count"), data)
    assert response.status_code == 200
    assert text in response.content.decode()


@pytest.mark.django_db
def test_audience_count_same_segment_in_and_out(organizer_client):
    segment = SegmentFactory()
    response = organizer_client.post(
        reverse("messaging:audience_count"),
        {"include_segments": [segment.pk], "exclude_segments": [segment.pk]},
    )
    assert "can&#x27;t be both included and excluded" in response.content.decode()


# --- the button picker ------------------------------------------------------------------------


@pytest.mark.django_db
def test_campaign_links_lists_live_actions_and_events_as_absolute_urls(organizer_client, settings):
    settings.SITE_URL = "https://act.example.org"
    action = ActionFactory(status="live", title="Fund our schools")
    response = organizer_client.get(
        reverse("messaging:campaign_links") + f"?campaign={action.campaign.pk}"
    )
    links = json.loads(response.content)["links"]
    assert {
        "title": "Sign: Fund our schools",
        "url": f"https://act.example.org/act/{action.slug}/",
    } in links
    assert all(link["url"].startswith("https://act.example.org/") for link in links)


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["", "abc", "999999", "1 OR 1=1"])
def test_campaign_links_of_no_campaign_is_empty(organizer_client, value):
    response = organizer_client.get(reverse("messaging:campaign_links"), {"campaign": value})
    assert json.loads(response.content) == {"links": []}


# --- review and preview -----------------------------------------------------------------------


@pytest.mark.django_db
def test_review_previews_with_the_chosen_person_and_counts(organizer_client):
    segment, _ = audience_of(2)
    ana = subscriber(segment, address="ana@example.org", given_name="Ana")
    PostalAddressFactory(person=ana, locality="Denver")
    mailing = MailingFactory(
        include=[segment], body_html="<p>Hi {{ first_name | friend }} from {{ city }}</p>"
    )
    url = reverse("messaging:detail", args=[mailing.pk])
    html = organizer_client.get(url, {"person_email": "ANA@example.org"}).content.decode()
    assert 'data-audience-count="3"' in html
    assert "Hi Ana from Denver" in html
    assert 'class="mail-frame-phone"' in html and "sandbox" in html
    assert "minus unsubscribed, bounced and complained addresses" in html.lower()


@pytest.mark.django_db
def test_review_with_an_unknown_person_shows_fallbacks(organizer_client):
    mailing = MailingFactory(body_html="<p>Hi {{ first_name | friend }}</p>")
    url = reverse("messaging:detail", args=[mailing.pk])
    html = organizer_client.get(url, {"person_email": "nobody@example.org"}).content.decode()
    assert "No one in your list has the address nobody@example.org" in html
    assert "Hi friend" in html


@pytest.mark.django_db
def test_review_with_a_bad_person_email_still_answers(organizer_client):
    mailing = MailingFactory()
    url = reverse("messaging:detail", args=[mailing.pk])
    response = organizer_client.get(url, {"person_email": "<script>"})
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert "<script>" not in response.content.decode().split('<main id="main"')[1]


@pytest.mark.django_db
def test_review_escapes_a_hostile_name_in_the_preview(organizer_client):
    person = person_with_email("mallory@example.org", given_name='<img src=x onerror="x()">')
    mailing = MailingFactory(body_html="<p>Hi {{ first_name }}</p>")
    html = organizer_client.get(
        reverse("messaging:detail", args=[mailing.pk]),
        {"person_email": person.email_addresses.get().address},
    ).content.decode()
    assert "<img src=x" not in html
    assert 'onerror="x()"' not in html


# --- duplicate and delete ---------------------------------------------------------------------


@pytest.mark.django_db
def test_duplicate_makes_a_draft_and_opens_it(organizer_client):
    mailing = MailingFactory(status=MailingStatus.SENT, name="Launch")
    response = organizer_client.post(reverse("messaging:duplicate", args=[mailing.pk]))
    copy = Mailing.objects.exclude(pk=mailing.pk).get()
    assert response.url == reverse("messaging:edit", args=[copy.pk])
    assert (copy.name, copy.status) == ("Copy of Launch", MailingStatus.DRAFT)


@pytest.mark.django_db
def test_delete_asks_then_deletes_a_draft(organizer_client):
    mailing = MailingFactory(name="Old draft")
    url = reverse("messaging:delete", args=[mailing.pk])
    assert "Delete the draft “Old draft”?" in organizer_client.get(url).content.decode()
    assert Mailing.objects.count() == 1
    response = organizer_client.post(url)
    assert response.url == reverse("messaging:list")
    assert Mailing.objects.count() == 0


@pytest.mark.django_db
def test_delete_of_a_sent_mailing_is_refused(organizer_client):
    mailing = MailingFactory(status=MailingStatus.SENT)
    response = organizer_client.post(reverse("messaging:delete", args=[mailing.pk]), follow=True)
    assert "Only drafts can be deleted" in response.content.decode()
    assert Mailing.objects.count() == 1


@pytest.mark.django_db
def test_other_organizers_drafts_are_shared(client):
    """Mailings belong to the campaign's team: any organizer may open another's draft."""
    mailing = MailingFactory(created_by=OrganizerFactory())
    client.force_login(OrganizerFactory())
    assert client.get(reverse("messaging:edit", args=[mailing.pk])).status_code == 200


# --- test, send, schedule, pause, resume, cancel ----------------------------------------------


def follow_messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


@pytest.mark.django_db
def test_send_a_test_to_yourself(organizer_client, organizer, mailoutbox):
    person_with_email("ana@example.org", given_name="Ana")
    mailing = MailingFactory(subject="Hello {{ first_name | friend }}")
    url = reverse("messaging:detail", args=[mailing.pk])
    assert f'value="{organizer.email}"' in organizer_client.get(url).content.decode()
    response = organizer_client.post(
        reverse("messaging:test", args=[mailing.pk]),
        {"to": organizer.email, "person_email": "ana@example.org"},
        follow=True,
    )
    assert f"Test sent to {organizer.email}." in follow_messages(response)
    assert [(m.to, m.subject) for m in mailoutbox] == [([organizer.email], "[Test] Hello Ana")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "text"),
    [
        ({"to": "not-an-address"}, "Send a test to: Enter a valid email address."),
        ({}, "Send a test to: This field is required."),
        ({"to": "me@example.org\nBcc: x@example.org"}, "Enter a valid email address."),
    ],
)
def test_send_a_test_bad_address(organizer_client, mailoutbox, data, text):
    mailing = MailingFactory()
    response = organizer_client.post(
        reverse("messaging:test", args=[mailing.pk]), data, follow=True
    )
    assert text in follow_messages(response)
    assert mailoutbox == []


@pytest.mark.django_db
def test_send_a_test_with_an_unknown_person_says_so(organizer_client, mailoutbox):
    mailing = MailingFactory()
    response = organizer_client.post(
        reverse("messaging:test", args=[mailing.pk]),
        {"to": "me@example.org", "person_email": "nobody@example.org"},
        follow=True,
    )
    assert "No one in your list has the address nobody@example.org." in follow_messages(response)
    assert mailoutbox == []


@pytest.mark.django_db
def test_send_asks_with_the_count_then_sends(organizer_client):
    segment, _ = audience_of(3)
    subscriber(segment, status=EmailStatus.UNSUBSCRIBED)
    mailing = MailingFactory(include=[segment])
    url = reverse("messaging:send", args=[mailing.pk])
    page = organizer_client.get(url).content.decode()
    assert 'data-audience-count="3"' in page
    assert "Send to 3 people" in page
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.DRAFT
    response = organizer_client.post(url, follow=True)
    assert "is going out to 3 people." in follow_messages(response)
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.CALCULATING


@pytest.mark.django_db
def test_send_without_an_audience_says_why(organizer_client):
    mailing = MailingFactory()
    response = organizer_client.post(reverse("messaging:send", args=[mailing.pk]), follow=True)
    assert "Choose at least one segment to send to." in follow_messages(response)
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.DRAFT


@pytest.mark.django_db
def test_send_twice_is_refused(organizer_client):
    segment, _ = audience_of(1)
    mailing = MailingFactory(include=[segment], status=MailingStatus.SENT)
    assert organizer_client.get(reverse("messaging:send", args=[mailing.pk])).status_code == 302
    response = organizer_client.post(reverse("messaging:send", args=[mailing.pk]), follow=True)
    assert "it can't be sent again" in follow_messages(response)


@pytest.mark.django_db
def test_schedule_then_unschedule(organizer_client):
    segment, _ = audience_of(1)
    mailing = MailingFactory(include=[segment])
    response = organizer_client.post(
        reverse("messaging:schedule", args=[mailing.pk]),
        {"send_at": "2099-06-01T09:30"},
        follow=True,
    )
    assert "Scheduled for Mon 01 Jun 2099, 09:30" in follow_messages(response)
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SCHEDULED
    assert "Unschedule" in response.content.decode()
    organizer_client.post(reverse("messaging:unschedule", args=[mailing.pk]))
    mailing.refresh_from_db()
    assert (mailing.status, mailing.scheduled_at) == (MailingStatus.DRAFT, None)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("2001-01-01T10:00", "Choose a time in the future."),
        ("tomorrow", "Enter a valid date/time."),
        ("", "This field is required."),
    ],
)
def test_schedule_bad_time(organizer_client, value, text):
    segment, _ = audience_of(1)
    mailing = MailingFactory(include=[segment])
    response = organizer_client.post(
        reverse("messaging:schedule", args=[mailing.pk]), {"send_at": value}, follow=True
    )
    assert text in follow_messages(response)
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.DRAFT


@pytest.mark.django_db
def test_pause_resume_and_cancel_while_sending(organizer_client):
    mailing = MailingFactory(status=MailingStatus.SENDING, total_targeted=2)
    organizer_client.post(reverse("messaging:pause", args=[mailing.pk]))
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.PAUSED
    detail = organizer_client.get(reverse("messaging:detail", args=[mailing.pk])).content.decode()
    assert ">Resume</button>" in detail
    organizer_client.post(reverse("messaging:resume", args=[mailing.pk]))
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENDING
    cancel = reverse("messaging:cancel", args=[mailing.pk])
    assert "Cancel “" in organizer_client.get(cancel).content.decode()
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENDING
    organizer_client.post(cancel)
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.CANCELLED


@pytest.mark.django_db
def test_pause_of_a_draft_is_refused_with_a_reason(organizer_client):
    mailing = MailingFactory()
    response = organizer_client.post(reverse("messaging:pause", args=[mailing.pk]), follow=True)
    assert "This mailing is draft: it can't be paused." in follow_messages(response)


@pytest.mark.django_db
def test_progress_partial_polls_while_sending(organizer_client):
    mailing = MailingFactory(status=MailingStatus.SENDING, total_targeted=4)
    DeliveryFactory(mailing=mailing, status="sent")
    DeliveryFactory(mailing=mailing, status="failed")
    html = organizer_client.get(reverse("messaging:progress", args=[mailing.pk])).content.decode()
    assert "2 of 4 done (50%)" in html
    assert 'hx-trigger="every 5s"' in html


@pytest.mark.django_db
def test_an_ab_wait_set_elsewhere_is_kept_by_the_editor(organizer_client):
    mailing = ab_mailing("First", "Second", ab_wait_minutes=45)
    html = organizer_client.get(reverse("messaging:edit", args=[mailing.pk])).content.decode()
    assert '<option value="45" selected>45 minutes</option>' in html
    response = organizer_client.post(
        reverse("messaging:autosave", args=[mailing.pk]),
        compose_data(
            subject="First", subject_b="Second", ab_sample_percent="20", ab_wait_minutes="45"
        ),
    )
    assert "Draft saved at" in response.content.decode()
    mailing.refresh_from_db()
    assert mailing.ab_wait_minutes == 45
