"""A mistyped mail domain is caught before anything is stored: every public form asks "Did you
mean …@gmail.com?", offers the suggestion, and keeps the address as typed if it is sent again."""

import pytest
from django.urls import reverse

from rallypoint.accounts.forms import SignupForm
from rallypoint.actions.forms import SubmissionForm
from rallypoint.events.forms import RsvpForm
from rallypoint.groups.forms import JoinForm as GroupJoinForm
from rallypoint.people.models import EmailAddress, Person
from rallypoint.people.normalize import email_typo_suggestion
from tests.actions.factories import ActionFactory
from tests.events.factories import EventFactory
from tests.groups.factories import GroupFactory

pytestmark = pytest.mark.django_db
JOIN = reverse("people:join")


def _join(**overrides):
    data = {
        "given_name": "Maya",
        "email": "maya@gmial.com",
        "postal_code": "94110",
        "country": "US",
    }
    data.update(overrides)
    return data


def test_suggestion_for_known_misspellings_only():
    assert email_typo_suggestion("Maya@GMIAL.com") == "Maya@gmail.com"
    assert email_typo_suggestion("ana@hotmial.com") == "ana@hotmail.com"
    assert email_typo_suggestion("ana@gmail.com") is None
    assert email_typo_suggestion("ana@mail.com") is None  # a real provider
    assert email_typo_suggestion("not an address") is None


def test_join_with_a_misspelt_domain_asks_first_and_stores_nothing(client):
    response = client.post(JOIN, _join())
    assert response.status_code == 200
    page = response.content.decode()
    assert "Did you mean maya@gmail.com?" in page
    assert 'name="email_suggested" value="maya@gmail.com"' in page
    assert 'name="email_checked" value="maya@gmial.com"' in page
    assert 'value="Maya"' in page  # nothing typed is lost
    assert not Person.objects.exists()


def test_join_with_the_suggestion_uses_it(client):
    response = client.post(JOIN, _join(email_suggested="maya@gmail.com"))
    assert response.status_code == 302
    assert EmailAddress.objects.get().address == "maya@gmail.com"


def test_join_sent_again_unchanged_keeps_the_address_as_typed(client):
    response = client.post(JOIN, _join(email_checked="maya@gmial.com"))
    assert response.status_code == 302
    assert EmailAddress.objects.get().address == "maya@gmial.com"


def test_join_changed_to_another_misspelling_asks_again(client):
    response = client.post(JOIN, _join(email="maya@hotmial.com", email_checked="maya@gmial.com"))
    assert response.status_code == 200
    assert "Did you mean maya@hotmail.com?" in response.content.decode()


@pytest.mark.parametrize(
    "make",
    [
        lambda data: RsvpForm(data),
        lambda data: GroupJoinForm(data),
        lambda data: SignupForm(data),
        lambda data: SubmissionForm(data, action=ActionFactory()),
    ],
    ids=["rsvp", "group join", "sign-up", "petition"],
)
def test_every_public_form_asks_about_a_misspelt_domain(make):
    data = {
        "given_name": "Maya",
        "family_name": "Chen",
        "email": "maya@gmial.com",
        "postal_code": "94110",
        "country": "US",
        "guests": "0",
    }
    form = make(data)
    assert not form.is_valid()
    assert form.errors["email"] == [
        "Did you mean maya@gmail.com? Correct it, or send the form again to keep maya@gmial.com."
    ]
    again = make({**data, "email_checked": "maya@gmial.com"})
    again.is_valid()
    assert "email" not in again.errors


@pytest.mark.parametrize(
    "url",
    [
        lambda: reverse("people:join"),
        lambda: reverse("accounts:signup"),
        lambda: EventFactory().get_absolute_url(),
        lambda: f"/groups/{GroupFactory().slug}/",
        lambda: f"/act/{ActionFactory().slug}/",
    ],
    ids=["join", "sign-up", "rsvp", "group join", "petition"],
)
def test_every_public_form_page_carries_the_check(client, url):
    page = client.get(url()).content.decode()
    assert 'name="email_checked"' in page
