"""Sign-up proves the address by an emailed link before any login exists or is linked."""

import re
import time
from unittest import mock

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from rallypoint.accounts.models import Role, User
from rallypoint.accounts.services import SIGNUP_SALT, SignupRequest, signup_token
from rallypoint.core.models import OutboundEmail
from rallypoint.ledger.models import Activity
from rallypoint.people.models import Person
from rallypoint.people.services import PersonData, person_match_or_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a long new password 9"


def _signup(client, email, **extra):
    return client.post(reverse("accounts:signup"), {"email": email, "password": PASSWORD, **extra})


def _link(message, pattern=r"https?://[^/\s]+(/accounts/signup/confirm/\S+/)"):
    return re.search(pattern, message.body_text).group(1)


def test_signup_with_a_known_persons_email_links_nothing_and_answers_like_a_new_address(client):
    """The attack: sign up with a supporter's address to take over their record."""
    victim, _ = person_match_or_create(PersonData(email="rosa@example.org", given_name="Rosa"))
    taken = _signup(client, "ROSA@example.org", given_name="Mallory")
    assert User.objects.count() == 0
    assert "_auth_user_id" not in client.session
    fresh = _signup(client, "brand-new@example.org")
    assert User.objects.count() == 0
    assert (taken.status_code, taken["Location"]) == (302, reverse("accounts:signup_sent"))
    assert (fresh.status_code, fresh["Location"]) == (302, reverse("accounts:signup_sent"))
    victim.refresh_from_db()
    assert victim.given_name == "Rosa"
    assert Activity.objects.count() == 0
    # Each address gets its own link; nothing else learns of it.
    assert sorted(OutboundEmail.objects.values_list("to", "subject")) == [
        ("ROSA@example.org", "Finish creating your Rallypoint account"),
        ("brand-new@example.org", "Finish creating your Rallypoint account"),
    ]


def test_signup_with_an_address_that_has_an_account_never_says_so(client):
    """The attack: learn who has an account (old answer: "There is already an account")."""
    user = UserFactory(email="ana@example.org")
    user.set_password("the old secret 42")
    user.save()
    taken = _signup(client, "ANA@example.org")
    assert b"already" not in taken.content
    fresh = _signup(client, "nobody@example.org")
    assert (taken.status_code, taken["Location"]) == (fresh.status_code, fresh["Location"])
    assert taken["Location"] == reverse("accounts:signup_sent")
    page = client.get(taken["Location"]).content.decode()
    assert "Check your inbox" in page
    assert "already" not in page
    assert User.objects.count() == 1
    user.refresh_from_db()
    assert user.check_password("the old secret 42")
    note = OutboundEmail.objects.get(to="ana@example.org")
    assert note.subject == "You already have a Rallypoint account"
    assert "/accounts/signup/confirm/" not in note.body_text
    reset = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", note.body_text).group(1)
    assert client.get(reset, follow=True).context["validlink"] is True


def test_signup_link_proves_the_address_then_links_the_existing_person(client):
    person, _ = person_match_or_create(PersonData(email="Rosa@example.org", given_name="Rosa"))
    _signup(client, "rosa@EXAMPLE.org", given_name="Mallory")
    link = _link(OutboundEmail.objects.get())
    page = client.get(link)
    assert page.status_code == 200
    assert page.context["email"] == "rosa@EXAMPLE.org"
    response = client.post(link, {"password": PASSWORD})
    assert response["Location"] == reverse("accounts:account")
    user = User.objects.get()
    assert (user.person_id, user.role) == (person.pk, Role.SUPPORTER)
    assert user.check_password(PASSWORD)
    assert int(client.session["_auth_user_id"]) == user.pk
    assert Person.objects.count() == 1
    person.refresh_from_db()
    assert person.given_name == "Rosa"


def test_signup_new_address_creates_account_and_join_only_from_the_link(client):
    _signup(client, "new@example.org", given_name="Nia")
    assert (User.objects.count(), Person.objects.count()) == (0, 0)
    client.post(_link(OutboundEmail.objects.get()), {"password": PASSWORD})
    person = Person.objects.get()
    assert (person.given_name, person.source) == ("Nia", "account")
    assert list(Activity.objects.values_list("person_id", "kind")) == [(person.pk, "join")]
    assert User.objects.get().person_id == person.pk


def test_signup_link_keeps_the_referral_of_the_sign_up(client):
    recruiter, _ = person_match_or_create(PersonData(email="rec@example.org"))
    client.get(f"/?ref={recruiter.share_code}&ch=whatsapp")
    _signup(client, "friend@example.org")
    other_browser = Client()
    other_browser.post(
        _link(OutboundEmail.objects.get(to="friend@example.org")), {"password": PASSWORD}
    )
    act = Activity.objects.get(kind="join")
    assert (act.referrer_id, act.channel) == (recruiter.pk, "whatsapp")


def test_signup_link_weak_password_creates_nothing(client):
    _signup(client, "new@example.org")
    response = client.post(_link(OutboundEmail.objects.get()), {"password": "password"})
    assert response.status_code == 200
    assert response.context["form"].errors["password"] == ["This password is too common."]
    assert (User.objects.count(), Person.objects.count()) == (0, 0)


def test_signup_link_for_address_that_got_an_account_meanwhile_goes_to_login(client):
    _signup(client, "ana@example.org")
    link = _link(OutboundEmail.objects.get())
    UserFactory(email="ana@example.org")
    response = client.post(link, {"password": PASSWORD})
    assert response["Location"] == reverse("accounts:login")
    assert User.objects.count() == 1
    assert "_auth_user_id" not in client.session


def test_signup_link_of_second_email_of_person_with_account_is_refused(client):
    person, _ = person_match_or_create(
        PersonData(email="a@example.org", phone="2025550180"), trusted=True
    )
    person_match_or_create(PersonData(email="b@example.org", phone="2025550180"), trusted=True)
    UserFactory(email="a@example.org", person=person)
    _signup(client, "b@example.org")
    response = client.post(_link(OutboundEmail.objects.get()), {"password": PASSWORD})
    assert response.status_code == 200
    assert (
        response.context["form"]
        .non_field_errors()[0]
        .startswith("This person already has an account under another email address.")
    )
    assert User.objects.count() == 1
    assert Activity.objects.count() == 0


FORGED_TOKENS = {
    "garbage": lambda: "garbage",
    "other_salt": lambda: signing.dumps({"e": "ana@example.org"}, salt="another.salt"),
    "not_an_address": lambda: signing.dumps({"e": "not an address"}, salt=SIGNUP_SALT),
}


@pytest.mark.parametrize("forged", list(FORGED_TOKENS))
def test_signup_link_forged_is_refused(client, forged):
    token = FORGED_TOKENS[forged]()
    response = client.post(reverse("accounts:signup_confirm", args=[token]), {"password": PASSWORD})
    assert response.status_code == 400
    assert b"That link has expired or is incomplete" in response.content
    assert User.objects.count() == 0


def test_signup_link_expires_with_password_reset_timeout(client, settings):
    settings.PASSWORD_RESET_TIMEOUT = 3600
    with mock.patch("time.time", return_value=time.time() - 3601):
        token = signup_token(SignupRequest(email="ana@example.org"))
    response = client.post(reverse("accounts:signup_confirm", args=[token]), {"password": PASSWORD})
    assert response.status_code == 400
    assert User.objects.count() == 0


def test_signup_sends_one_message_per_address_per_ten_minutes(client):
    for _ in range(3):
        _signup(client, "ana@example.org")
    assert OutboundEmail.objects.count() == 1


def test_signup_rate_limited_answers_429_html():
    """The old answer: status 200 with a `Content-Type: 429` header."""
    for n in range(20):
        _signup(Client(), f"p{n}@example.org")  # one network address, many visitors
    response = _signup(Client(), "one-more@example.org")
    assert response.status_code == 429
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "Too many sign-ups from your network." in response.content.decode()
    assert OutboundEmail.objects.filter(to="one-more@example.org").count() == 0


def test_signup_redirects_to_safe_next_only(client):
    _signup(client, "a@example.org", next="/events/")
    _signup(client, "b@example.org", next="https://evil.test/")
    home = Client()
    assert (
        home.post(_link(OutboundEmail.objects.get(to="a@example.org")), {"password": PASSWORD})[
            "Location"
        ]
        == "/events/"
    )
    away = Client()
    assert away.post(_link(OutboundEmail.objects.get(to="b@example.org")), {"password": PASSWORD})[
        "Location"
    ] == reverse("accounts:account")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "nope"}, "email"),
        ({"email": "a@example.org\x00"}, "email"),
        ({"email": "a@example.org", "given_name": "n" * 10_000}, "given_name"),
        ({"email": "a@example.org", "given_name": "Ana\x00"}, "given_name"),
    ],
)
def test_signup_bad_input_is_a_form_error(client, data, field):
    response = client.post(reverse("accounts:signup"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert (User.objects.count(), Person.objects.count(), OutboundEmail.objects.count()) == (
        0,
        0,
        0,
    )
