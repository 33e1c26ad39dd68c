import importlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.apps import apps
from django.core import mail
from django.template.loader import render_to_string
from django.utils import timezone
from freezegun import freeze_time

from rallypoint.events.links import is_web_url, rsvp_token, rsvp_token_valid
from rallypoint.events.models import Event
from rallypoint.events.services import rsvp_create
from rallypoint.events.services.notify import event_context
from tests.events.factories import EventFactory, person_with_email
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_rsvp_token_is_valid_for_its_rsvp_only():
    event = EventFactory()
    mine = rsvp_create(event=event, person=person_with_email())
    theirs = rsvp_create(event=event, person=person_with_email())
    assert rsvp_token_valid(mine, rsvp_token(mine)) is True
    assert rsvp_token_valid(theirs, rsvp_token(mine)) is False


def test_rsvp_token_is_bound_to_the_rsvps_person():
    rsvp = rsvp_create(event=EventFactory(), person=person_with_email())
    token = rsvp_token(rsvp)
    rsvp.person = PersonFactory()
    assert rsvp_token_valid(rsvp, token) is False


def test_rsvp_token_expires_after_400_days():
    rsvp = rsvp_create(event=EventFactory(), person=person_with_email())
    with freeze_time(timezone.now() - timedelta(days=401)):
        old = rsvp_token(rsvp)
    with freeze_time(timezone.now() - timedelta(days=399)):
        recent = rsvp_token(rsvp)
    assert (rsvp_token_valid(rsvp, old), rsvp_token_valid(rsvp, recent)) == (False, True)


@pytest.mark.parametrize(
    "template",
    [
        "rsvp_confirmed",
        "rsvp_waitlisted",
        "rsvp_promoted",
        "rsvp_links",
        "reminder",
        "event_changed",
        "host_message",
    ],
)
def test_rsvp_emails_carry_only_signed_rsvp_links(template):
    rsvp = rsvp_create(event=EventFactory(), person=person_with_email(), notify_person=False)
    context = {
        **event_context(rsvp.event, rsvp),
        "minutes_before": 60,
        "changed": ["starts_at"],
        "message": {"body": "See you"},
        "brand": {"name": "Rallypoint"},
    }
    body = render_to_string(f"events/email/{template}.txt", context)
    links = [urlsplit(w) for w in body.split() if "/events/rsvp/" in w]
    assert f"/events/rsvp/{rsvp.uuid}/cancel/" in [link.path for link in links]
    for link in links:
        assert rsvp_token_valid(rsvp, parse_qs(link.query)["t"][0]) is True


def test_rsvp_confirmation_email_links_are_signed():
    rsvp = rsvp_create(event=EventFactory(), person=person_with_email())
    links = [w for w in mail.outbox[0].body.split() if "/events/rsvp/" in w]
    assert len(links) == 2
    for link in links:
        assert rsvp_token_valid(rsvp, parse_qs(urlsplit(link).query)["t"][0]) is True


@pytest.mark.parametrize(
    "value, ok",
    [
        ("https://meet.example.org/abc", True),
        ("http://meet.example.org", True),
        ("javascript:alert(1)", False),
        ("JAVASCRIPT:alert(1)", False),
        (" javascript:alert(1)", False),
        ("java\nscript:alert(1)", False),
        ("data:text/html,x", False),
        ("vbscript:x", False),
        ("ftp://files.example.org/", False),
        ("//meet.example.org", False),
        ("", False),
        (None, False),
    ],
)
def test_is_web_url(value, ok):
    assert is_web_url(value) is ok


def test_migration_blanks_stored_non_web_join_urls():
    good = EventFactory(location_mode="virtual", join_url="https://meet.example.org/a")
    bad = EventFactory(location_mode="virtual", join_url="javascript:alert(1)")
    ftp = EventFactory(location_mode="hybrid", join_url="ftp://files.example.org/")
    migration = importlib.import_module("rallypoint.events.migrations.0004_blank_unsafe_join_urls")
    migration.blank_unsafe_join_urls(apps, None)
    assert dict(Event.objects.values_list("pk", "join_url")) == {
        good.pk: "https://meet.example.org/a",
        bad.pk: "",
        ftp.pk: "",
    }
