import time
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.urls import reverse

from rallypoint.core.models import OutboundEmail
from rallypoint.ledger.dashboard import (
    SESSION_KEY,
    TOKEN_SALT,
    dashboard_link,
    dashboard_token,
    dashboard_token_read,
)
from rallypoint.ledger.services import activity_record
from rallypoint.people.referral import Referral
from tests.factories import EmailAddressFactory, PersonFactory, UserFactory
from tests.mission.factories import CampaignFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def _open(client, person):
    return client.get(reverse("ledger:dashboard_link", args=[dashboard_token(person)]))


def test_dashboard_link_is_absolute_and_opens_dashboard_session(client, settings):
    settings.SITE_URL = "https://rally.example"
    person = PersonFactory(given_name="Ana")
    link = dashboard_link(person)
    assert link.startswith("https://rally.example/me/link/")
    response = client.get(link.removeprefix("https://rally.example"))
    assert response.status_code == 302
    assert response["Location"] == reverse("ledger:dashboard")
    assert client.session[SESSION_KEY] == person.pk
    page = client.get(reverse("ledger:dashboard"))
    assert page.status_code == 200
    assert page.context["person"] == person
    assert b"Hi Ana" in page.content


def test_dashboard_link_expires_after_configured_days(client, settings):
    settings.DASHBOARD_LINK_DAYS = 30
    person = PersonFactory()
    with mock.patch("time.time", return_value=time.time() - 31 * 24 * 3600):
        token = dashboard_token(person)
    assert dashboard_token_read(token) is None
    response = client.get(reverse("ledger:dashboard_link", args=[token]))
    assert response.status_code == 400
    assert b"That link has expired or is incomplete" in response.content
    assert SESSION_KEY not in client.session


def test_dashboard_link_revoked_when_share_code_changes(client):
    person = PersonFactory()
    token = dashboard_token(person)
    person.share_code = "newcode234"
    person.save()
    assert dashboard_token_read(token) is None


def test_dashboard_link_forged_is_rejected(client):
    person = PersonFactory()
    forged = signing.dumps({"p": person.pk, "c": person.share_code}, salt="other")
    assert client.get(reverse("ledger:dashboard_link", args=[forged])).status_code == 400
    assert signing.loads(dashboard_token(person), salt=TOKEN_SALT)["p"] == person.pk


def test_dashboard_link_logs_supporter_account_in(client):
    person = PersonFactory()
    user = UserFactory(person=person)
    _open(client, person)
    assert int(client.session["_auth_user_id"]) == user.pk


def test_dashboard_link_never_logs_organizer_in(client):
    person = PersonFactory()
    UserFactory(person=person, role="organizer")
    _open(client, person)
    assert "_auth_user_id" not in client.session
    assert client.session[SESSION_KEY] == person.pk


def test_dashboard_link_of_someone_else_while_logged_in_changes_nothing(client):
    me = UserFactory(person=PersonFactory())
    client.force_login(me)
    other = PersonFactory()
    response = _open(client, other)
    assert response.status_code == 409
    assert SESSION_KEY not in client.session
    assert int(client.session["_auth_user_id"]) == me.pk


def test_dashboard_without_person_offers_link_by_email(client):
    response = client.get(reverse("ledger:dashboard"))
    assert response.status_code == 200
    assert b"Email me my link" in response.content


def test_dashboard_shows_points_recruits_and_share_links(client):
    campaign = CampaignFactory(slug="schools")
    ana = PersonFactory(given_name="Ana")
    activity_record(person=ana, kind="sign", campaign=campaign)
    ben = PersonFactory(given_name="Ben", family_name="Okafor")
    activity_record(
        person=ben,
        kind="sign",
        campaign=campaign,
        referral=Referral(code=ana.share_code, channel="whatsapp"),
        person_created=True,
    )
    _open(client, ana)
    response = client.get(reverse("ledger:dashboard"))
    assert (response.context["points"], response.context["recruit_count"]) == (6, 1)
    html = response.content.decode()
    assert "<strong>Ben O.</strong> joined" in html
    assert f"/campaigns/schools/?ref={ana.share_code}&amp;ch=direct" in html


def test_link_request_emails_known_address(client):
    address = EmailAddressFactory(address="ana@example.org")
    response = client.post(reverse("ledger:link_request"), {"email": "ANA@example.org "})
    assert response.status_code == 302
    message = OutboundEmail.objects.get()
    assert message.to == "ana@example.org"
    token = message.body_text.split("/me/link/")[1].split("/")[0]
    assert dashboard_token_read(token) == address.person


def test_link_request_unknown_address_answers_the_same_and_sends_nothing(client):
    known = client.post(reverse("ledger:link_request"), {"email": "nobody@example.org"})
    assert known.status_code == 302
    assert OutboundEmail.objects.count() == 0


def test_link_request_bad_email_is_explained(client):
    response = client.post(reverse("ledger:link_request"), {"email": "not an email"})
    assert response.status_code == 400
    assert b"Enter a valid email address." in response.content


def test_link_request_redirects_back_to_safe_next_only(client):
    EmailAddressFactory(address="ana@example.org")
    back = client.post(
        reverse("ledger:link_request"), {"email": "ana@example.org", "next": "/act/x/thanks/"}
    )
    assert back["Location"] == "/act/x/thanks/"
    away = client.post(
        reverse("ledger:link_request"), {"email": "ana@example.org", "next": "https://evil.test/"}
    )
    assert away["Location"] == reverse("ledger:dashboard")


def test_link_request_rate_limited_per_ip(client):
    for _ in range(10):
        client.post(reverse("ledger:link_request"), {"email": "x@example.org"})
    EmailAddressFactory(address="ana@example.org")
    response = client.post(reverse("ledger:link_request"), {"email": "ana@example.org"})
    assert response.status_code == 429
    assert b"Too many requests" in response.content
    assert OutboundEmail.objects.count() == 0


def test_link_request_sends_one_message_per_ten_minutes(client):
    EmailAddressFactory(address="ana@example.org")
    for _ in range(3):
        client.post(reverse("ledger:link_request"), {"email": "ana@example.org"})
    assert OutboundEmail.objects.count() == 1


def test_visibility_opt_out_hides_from_leaderboards(client):
    person = PersonFactory()
    _open(client, person)
    client.post(reverse("ledger:visibility"), {})
    person.refresh_from_db()
    assert person.public_display is False
    client.post(reverse("ledger:visibility"), {"public_display": "on"})
    person.refresh_from_db()
    assert person.public_display is True


def test_visibility_without_dashboard_changes_nothing(client):
    person = PersonFactory()
    response = client.post(reverse("ledger:visibility"), {"person": person.pk})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.public_display is True


def test_password_set_creates_linked_account_and_logs_in(client):
    person = PersonFactory()
    EmailAddressFactory(person=person, address="ana@example.org")
    _open(client, person)
    client.post(reverse("ledger:password"), {"password": "a long walk to the polls"})
    user = User.objects.get()
    assert (user.email, user.person, user.role) == ("ana@example.org", person, "supporter")
    assert user.check_password("a long walk to the polls")
    assert int(client.session["_auth_user_id"]) == user.pk


def test_password_set_weak_password_creates_nothing(client):
    person = PersonFactory()
    EmailAddressFactory(person=person, address="ana@example.org")
    _open(client, person)
    response = client.post(reverse("ledger:password"), {"password": "password"}, follow=True)
    assert User.objects.count() == 0
    assert "This password is too common." in response.content.decode()


def test_password_set_when_email_has_account_explains(client):
    person = PersonFactory()
    EmailAddressFactory(person=person, address="ana@example.org")
    UserFactory(email="ana@example.org")
    _open(client, person)
    response = client.post(
        reverse("ledger:password"), {"password": "a long walk to the polls"}, follow=True
    )
    assert User.objects.count() == 1
    assert "An account with your email address already exists" in response.content.decode()


def test_password_set_without_dashboard_changes_nothing(client):
    client.post(reverse("ledger:password"), {"password": "a long walk to the polls"})
    assert User.objects.count() == 0


def test_leave_ends_dashboard_session(client):
    _open(client, PersonFactory())
    client.post(reverse("ledger:leave"))
    assert SESSION_KEY not in client.session


def test_dashboard_session_shows_my_rallypoint_in_the_header(client):
    assert b">My Rallypoint</a>" not in client.get("/").content
    _open(client, PersonFactory())
    assert b'<a href="/me/">My Rallypoint</a>' in client.get("/").content
