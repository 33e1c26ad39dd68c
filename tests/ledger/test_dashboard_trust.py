"""My Rallypoint is reached only through a link sent to an address the person already had."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from rallypoint.core.models import OutboundEmail
from rallypoint.ledger.dashboard import SESSION_KEY
from rallypoint.people.models import Person
from tests.factories import EmailAddressFactory, PersonFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db
User = get_user_model()
ATTACKER_PASSWORD = "a long walk to the polls"


@pytest.fixture
def victim():
    person = PersonFactory(given_name="Vera", family_name="Ortiz")
    EmailAddressFactory(person=person, address="vera@example.org")
    PhoneNumberFactory(person=person, number="+12025550147")
    return person


def _open_emailed_link(client, to):
    body = OutboundEmail.objects.filter(to=to).latest("id").body_text
    path = "/me/link/" + body.split("/me/link/")[1].split()[0]
    return client.get(path)


def test_join_with_a_known_phone_then_dashboard_link_never_opens_the_victims_record(victim):
    """The attack: join with the victim's phone and my email, ask for "my" dashboard link, then
    set a password from it."""
    attacker = Client()
    joined = attacker.post(
        reverse("people:join"),
        {
            "given_name": "Mallory",
            "email": "mallory@example.org",
            "phone": "(202) 555-0147",
            "country": "US",
            "postal_code": "94110",
            "website": "",
        },
    )
    assert joined["Location"] == reverse("people:join_done")
    attacker.post(reverse("ledger:link_request"), {"email": "mallory@example.org"})
    assert OutboundEmail.objects.filter(to="vera@example.org").count() == 0
    _open_emailed_link(attacker, "mallory@example.org")
    assert attacker.session[SESSION_KEY] != victim.pk
    page = attacker.get(reverse("ledger:dashboard"))
    assert page.context["person"] != victim
    assert b"Vera" not in page.content
    attacker.post(reverse("ledger:password"), {"password": ATTACKER_PASSWORD})
    assert not User.objects.filter(person=victim).exists()
    assert not User.objects.filter(email__iexact="vera@example.org").exists()
    victim.refresh_from_db()
    assert (victim.given_name, victim.family_name) == ("Vera", "Ortiz")
    assert list(victim.email_addresses.values_list("address", flat=True)) == ["vera@example.org"]


def test_link_request_answers_the_same_for_known_and_unknown_addresses(client, victim):
    answers = []
    for email in ("vera@example.org", "who@example.org"):
        response = client.post(reverse("ledger:link_request"), {"email": email})
        page = client.get(response["Location"])
        answers.append(
            (response.status_code, response["Location"], [str(m) for m in page.context["messages"]])
        )
    assert answers[0] == answers[1]
    assert list(OutboundEmail.objects.values_list("to", flat=True)) == ["vera@example.org"]
    assert SESSION_KEY not in client.session


def test_password_set_outside_a_link_session_creates_nothing(client, victim):
    for data in ({"password": ATTACKER_PASSWORD}, {"password": ATTACKER_PASSWORD, "person": 1}):
        response = client.post(reverse("ledger:password"), data)
        assert response["Location"] == reverse("ledger:dashboard")
    assert User.objects.count() == 0


def test_password_set_inside_a_link_session_is_for_that_sessions_person_only(client, victim):
    other = PersonFactory()
    EmailAddressFactory(person=other, address="other@example.org")
    client.post(reverse("ledger:link_request"), {"email": "vera@example.org"})
    _open_emailed_link(client, "vera@example.org")
    client.post(reverse("ledger:password"), {"password": ATTACKER_PASSWORD, "person": other.pk})
    user = User.objects.get()
    assert (user.email, user.person_id) == ("vera@example.org", victim.pk)
    assert Person.objects.count() == 2
