"""One-click unsubscribe (RFC 8058), the preference page and starting again by double opt-in."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from freezegun import freeze_time

from rallypoint.core.models import AuditEntry, OutboundEmail, OutboxEvent
from rallypoint.ledger.models import Activity
from rallypoint.messaging.models import Delivery, DeliveryStatus, MailPreference
from rallypoint.messaging.services.suppression import (
    preferences_url,
    unsubscribe_headers,
    unsubscribe_url,
)
from rallypoint.people.models import EmailAddress, EmailStatus
from tests.factories import EmailAddressFactory
from tests.messaging.factories import DeliveryFactory

pytestmark = pytest.mark.django_db


def _delivery(status=EmailStatus.SUBSCRIBED):
    address = EmailAddressFactory(address="ana@example.org", status=status)
    return DeliveryFactory(
        person=address.person, address="ana@example.org", status=DeliveryStatus.SENT
    )


def _status() -> str:
    return EmailAddress.objects.get(address="ana@example.org").status


def _path(url: str) -> str:
    return urlsplit(url).path


def test_unsubscribe_headers_name_the_https_link_and_one_click(settings):
    delivery = _delivery()
    headers = unsubscribe_headers(delivery)
    assert headers == {
        "List-Unsubscribe": f"<{unsubscribe_url(delivery)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert unsubscribe_url(delivery).startswith(settings.SITE_URL + "/mail/m/u/")
    settings.MAILING_BOUNCE_ADDRESS = "bounces@mail.example.org"
    mailto = f"bounces+unsubscribe-{delivery.token.hex}@mail.example.org"
    assert unsubscribe_headers(delivery)["List-Unsubscribe"] == (
        f"<{unsubscribe_url(delivery)}>, <mailto:{mailto}?subject=unsubscribe>"
    )


def test_one_click_post_unsubscribes_at_once_without_a_page():
    delivery = _delivery()
    response = Client(enforce_csrf_checks=True).post(
        _path(unsubscribe_url(delivery)), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert _status() == EmailStatus.UNSUBSCRIBED
    delivery.refresh_from_db()
    assert delivery.unsubscribed_at is not None
    act = Activity.objects.get()
    assert (act.person_id, act.kind, act.points, act.details) == (
        delivery.person_id,
        "unsubscribe",
        0,
        {"mailing": delivery.mailing_id, "via": "one-click"},
    )
    assert act.target == delivery.mailing
    assert list(OutboxEvent.objects.values_list("kind", flat=True)) == ["unsubscribe"]
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor_id, entry.data["after"]) == (
        "person.email.status",
        None,
        {"status": "unsubscribed"},
    )


def test_one_click_post_twice_is_once():
    delivery = _delivery()
    path = _path(unsubscribe_url(delivery))
    Client().post(path, {"List-Unsubscribe": "One-Click"})
    delivery.refresh_from_db()
    first = delivery.unsubscribed_at
    response = Client().post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    delivery.refresh_from_db()
    assert delivery.unsubscribed_at == first
    assert (Activity.objects.count(), OutboxEvent.objects.count(), AuditEntry.objects.count()) == (
        1,
        1,
        1,
    )


def test_get_only_asks_so_link_scanners_unsubscribe_nobody():
    delivery = _delivery()
    path = _path(unsubscribe_url(delivery))
    for method in ("get", "head"):
        response = getattr(Client(), method)(path)
        assert response.status_code == 200
    page = Client().get(path)
    assert b"Stop campaign email?" in page.content
    assert _path(preferences_url(delivery)).encode() in page.content
    assert _status() == EmailStatus.SUBSCRIBED
    delivery.refresh_from_db()
    assert delivery.unsubscribed_at is None
    assert (Activity.objects.count(), OutboxEvent.objects.count()) == (0, 0)


def test_the_page_button_unsubscribes_and_shows_it():
    delivery = _delivery()
    path = _path(unsubscribe_url(delivery))
    browser = Client(enforce_csrf_checks=True)
    browser.get(path)
    response = browser.post(path, {"confirm": "1"})
    assert (response.status_code, response["Location"]) == (302, path)
    assert _status() == EmailStatus.UNSUBSCRIBED
    assert Activity.objects.get().details["via"] == "link"
    assert b"You're unsubscribed" in browser.get(path).content


def test_unsubscribe_leaves_a_complaint_as_it_is():
    delivery = _delivery(status=EmailStatus.SPAM_COMPLAINT)
    Client().post(_path(unsubscribe_url(delivery)), {"List-Unsubscribe": "One-Click"})
    assert _status() == EmailStatus.SPAM_COMPLAINT
    assert Activity.objects.count() == 0


def test_unsubscribe_refuses_bad_tokens_and_changes_nothing():
    delivery = _delivery()
    good = _path(unsubscribe_url(delivery)).split("/")[-2]
    for bad in [
        "-",
        good[:-1],
        good.replace(".", ".x"),
        _path(preferences_url(delivery)).split("/")[-2],
    ]:
        path = reverse("messaging:unsubscribe", args=[bad])
        assert Client().get(path).status_code == 400
        assert Client().post(path, {"List-Unsubscribe": "One-Click"}).status_code == 400
    assert _status() == EmailStatus.SUBSCRIBED


def test_unsubscribe_link_survives_a_secret_key_rotation(settings):
    delivery = _delivery()
    path = _path(unsubscribe_url(delivery))
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "rotated-" + "k" * 50
    assert Client().get(path).status_code == 400  # signed with a key no longer known
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert Client().post(path, {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert _status() == EmailStatus.UNSUBSCRIBED


def test_unsubscribe_link_of_a_deleted_mailing_says_so():
    delivery = _delivery()
    path = _path(unsubscribe_url(delivery))
    Delivery.objects.filter(pk=delivery.pk).delete()
    assert Client().post(path, {"List-Unsubscribe": "One-Click"}).status_code == 400


# --- preferences ------------------------------------------------------------------------------


def test_preferences_page_shows_and_saves_kinds_of_mail():
    delivery = _delivery()
    path = _path(preferences_url(delivery))
    browser = Client()
    page = browser.get(path)
    assert page.status_code == 200
    assert page.context["form"].initial["kinds"] == ["news", "actions", "events", "fundraising"]
    response = browser.post(path, {"action": "save", "kinds": ["news", "events"]})
    assert (response.status_code, response["Location"]) == (302, path)
    stopped = MailPreference.objects.filter(person=delivery.person).values_list("kind", flat=True)
    assert sorted(stopped) == ["actions", "fundraising"]
    assert browser.get(path).context["form"].initial["kinds"] == ["news", "events"]
    browser.post(path, {"action": "save", "kinds": ["news", "actions", "events", "fundraising"]})
    assert MailPreference.objects.count() == 0
    assert _status() == EmailStatus.SUBSCRIBED


def test_preferences_refuse_an_unknown_kind_and_keep_everything():
    delivery = _delivery()
    path = _path(preferences_url(delivery))
    for hostile in ["<script>", "news\x00", "x" * 10_000]:
        response = Client().post(path, {"action": "save", "kinds": ["news", hostile]})
        assert response.status_code == 400
        assert b"Please choose from the list." in response.content
    assert MailPreference.objects.count() == 0


def test_preferences_stop_all_unsubscribes():
    delivery = _delivery()
    Client().post(
        _path(preferences_url(delivery)), {"action": "save", "kinds": ["news"], "stop_all": "on"}
    )
    assert _status() == EmailStatus.UNSUBSCRIBED
    assert Activity.objects.get().details["via"] == "preferences"


def test_preferences_bad_token_is_refused():
    for method in ("get", "post"):
        response = getattr(Client(), method)(reverse("messaging:preferences", args=["nope"]))
        assert response.status_code == 400


# --- starting again: double opt-in ------------------------------------------------------------


def _confirm_path() -> str:
    body = OutboundEmail.objects.get(to="ana@example.org").body_text
    return _path(re.search(r"https?://\S+/mail/m/r/\S+/", body).group(0))


def test_resubscribe_is_confirmed_by_a_link_sent_to_the_address():
    delivery = _delivery()
    path = _path(preferences_url(delivery))
    Client().post(_path(unsubscribe_url(delivery)), {"List-Unsubscribe": "One-Click"})
    browser = Client()
    assert b"Email me a link to start again" in browser.get(path).content
    response = browser.post(path, {"action": "resubscribe"})
    assert response.status_code == 302
    assert _status() == EmailStatus.UNSUBSCRIBED  # asking changes nothing
    confirm = _confirm_path()
    mail_client = Client(enforce_csrf_checks=True)
    page = mail_client.get(confirm)  # a link scanner opening it changes nothing either
    assert b"Get campaign email again?" in page.content
    assert _status() == EmailStatus.UNSUBSCRIBED
    response = mail_client.post(confirm, {"csrfmiddlewaretoken": page.context["csrf_token"]})
    assert (response.status_code, response["Location"]) == (302, confirm)
    assert _status() == EmailStatus.SUBSCRIBED
    assert b"You're back on the list" in mail_client.get(confirm).content


def test_resubscribe_request_sends_at_most_one_email_an_hour():
    delivery = _delivery(status=EmailStatus.UNSUBSCRIBED)
    path = _path(preferences_url(delivery))
    for _ in range(3):
        Client().post(path, {"action": "resubscribe"})
    assert OutboundEmail.objects.filter(to="ana@example.org").count() == 1


def test_resubscribe_request_for_a_subscribed_address_sends_nothing():
    delivery = _delivery()
    Client().post(_path(preferences_url(delivery)), {"action": "resubscribe"})
    assert OutboundEmail.objects.count() == 0


def test_resubscribe_link_expires():
    delivery = _delivery(status=EmailStatus.UNSUBSCRIBED)
    Client().post(_path(preferences_url(delivery)), {"action": "resubscribe"})
    confirm = _confirm_path()
    with freeze_time(timedelta(days=8)):
        assert Client().post(confirm).status_code == 400
    assert _status() == EmailStatus.UNSUBSCRIBED


def test_resubscribe_link_is_refused_when_forged():
    _delivery(status=EmailStatus.UNSUBSCRIBED)
    response = Client().post(reverse("messaging:resubscribe", args=["eyJhIjoxfQ:1:x"]))
    assert response.status_code == 400
    assert _status() == EmailStatus.UNSUBSCRIBED
