"""Signed "stop campaign emails" links: they work from the email, without a login, and only for
the address they were sent to."""

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from rallypoint.accounts.services import UNSUBSCRIBE_SALT, unsubscribe_link, unsubscribe_token
from rallypoint.core.models import AuditEntry, OutboundEmail
from rallypoint.people.models import EmailStatus
from tests.factories import EmailAddressFactory

pytestmark = pytest.mark.django_db


def _path(address):
    return reverse("accounts:unsubscribe", args=[unsubscribe_token(address)])


def test_unsubscribe_link_in_the_dashboard_email_works_without_login():
    address = EmailAddressFactory(address="ana@example.org")
    browser = Client(enforce_csrf_checks=True)
    browser.get(reverse("ledger:dashboard"))  # a CSRF cookie, as a browser would have
    browser.post(
        reverse("ledger:link_request"),
        {"email": "ana@example.org", "csrfmiddlewaretoken": browser.cookies["csrftoken"].value},
    )
    body = OutboundEmail.objects.get(to="ana@example.org").body_text
    link = body.split("Stop campaign emails: ")[1].split()[0]
    assert link == unsubscribe_link(address)
    path = link[link.index("/accounts/unsubscribe/") :]
    mail_client = Client(enforce_csrf_checks=True)
    page = mail_client.get(path)
    assert page.status_code == 200
    assert b"Stop campaign emails?" in page.content
    address.refresh_from_db()
    assert address.status == EmailStatus.SUBSCRIBED  # a link scanner's GET changes nothing
    page = mail_client.get(path)
    response = mail_client.post(
        path,
        {"status": "unsubscribed", "csrfmiddlewaretoken": page.context["csrf_token"]},
    )
    assert response["Location"] == path
    address.refresh_from_db()
    assert address.status == EmailStatus.UNSUBSCRIBED
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor_id, entry.data["after"]) == (
        "person.email.status",
        None,
        {"status": "unsubscribed"},
    )
    assert b"You won't get campaign emails any more" in mail_client.get(path).content


def test_unsubscribe_one_click_post_from_a_mail_client():
    address = EmailAddressFactory()
    response = Client(enforce_csrf_checks=True).post(
        _path(address), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    address.refresh_from_db()
    assert address.status == EmailStatus.UNSUBSCRIBED


def test_unsubscribe_same_link_resubscribes_on_request(client):
    address = EmailAddressFactory(status=EmailStatus.UNSUBSCRIBED)
    client.post(_path(address), {"status": "subscribed"})
    address.refresh_from_db()
    assert address.status == EmailStatus.SUBSCRIBED


def test_unsubscribe_link_never_marks_a_bouncing_address_subscribed(client):
    address = EmailAddressFactory(status=EmailStatus.BOUNCING)
    client.post(_path(address), {"status": "subscribed"})
    address.refresh_from_db()
    assert address.status == EmailStatus.BOUNCING
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize("forge", ["garbage", "other_salt", "tampered", "moved"])
def test_unsubscribe_forged_link_changes_nothing(client, forge):
    mine = EmailAddressFactory(address="mine@example.org")
    victim = EmailAddressFactory(address="victim@example.org")
    token = {
        "garbage": "garbage",
        "other_salt": signing.dumps({"a": victim.pk, "k": victim.address_normalized}, salt="x"),
        # A real token of mine with its signature altered.
        "tampered": unsubscribe_token(mine)[:-2] + "xx",
        "moved": signing.dumps({"a": victim.pk, "k": "mine@example.org"}, salt=UNSUBSCRIBE_SALT),
    }[forge]
    response = client.post(
        reverse("accounts:unsubscribe", args=[token]), {"status": "unsubscribed"}
    )
    assert response.status_code == 400
    assert b"That link is incomplete" in response.content
    victim.refresh_from_db()
    mine.refresh_from_db()
    assert (victim.status, mine.status) == (EmailStatus.SUBSCRIBED, EmailStatus.SUBSCRIBED)


def test_unsubscribe_link_is_not_shown_to_whoever_typed_the_address(client):
    """Asking for a dashboard link or signing up with someone's address shows no link."""
    EmailAddressFactory(address="ana@example.org")
    pages = [
        client.post(reverse("ledger:link_request"), {"email": "ana@example.org"}, follow=True),
        client.post(reverse("accounts:signup"), {"email": "ana@example.org"}, follow=True),
    ]
    for page in pages:
        assert page.status_code == 200
        assert b"/accounts/unsubscribe/" not in page.content
        assert b"/me/link/" not in page.content
        assert b"/accounts/signup/confirm/" not in page.content
