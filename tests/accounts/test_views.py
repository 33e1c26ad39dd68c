import re

import pytest
from django.urls import reverse

from rallypoint.accounts.models import Role, User
from rallypoint.core.models import AuditEntry, OutboundEmail
from rallypoint.people.models import EmailStatus, Person
from rallypoint.people.services import PersonData, person_match_or_create
from tests.factories import OrganizerFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


def test_login_email_is_case_insensitive(client):
    UserFactory(email="ana@example.org")
    response = client.post(
        reverse("accounts:login"), {"username": "  ANA@Example.org ", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:after_login")
    assert client.get(reverse("accounts:account")).status_code == 200


def test_login_wrong_password_shows_message(client):
    UserFactory(email="ana@example.org")
    response = client.post(
        reverse("accounts:login"), {"username": "ana@example.org", "password": "nope"}
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "That email and password don't match an account. Check them, or reset your password."
    ]
    assert b'value="ana@example.org"' in response.content


def test_login_rate_limited(client, settings):
    settings.LOGIN_RATE_LIMIT = (2, 300)
    UserFactory(email="ana@example.org")
    for _ in range(2):
        client.post(reverse("accounts:login"), {"username": "ana@example.org", "password": "x"})
    response = client.post(
        reverse("accounts:login"), {"username": "ana@example.org", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response.context["form"].non_field_errors()[0].startswith("Too many login attempts.")
    assert "_auth_user_id" not in client.session


def _login(client, email, password, ip):
    return client.post(
        reverse("accounts:login"), {"username": email, "password": password}, REMOTE_ADDR=ip
    )


def test_login_account_throttle_blocks_even_the_right_password_from_any_address(client, settings):
    """The attack: guess one account's password from many addresses (old: never blocked)."""
    settings.LOGIN_RATE_LIMIT = (1000, 300)
    settings.LOGIN_ACCOUNT_RATE_LIMIT = (3, 900)
    UserFactory(email="ana@example.org")
    for n in range(3):
        assert _login(client, "ana@example.org", f"guess {n}", f"198.51.100.{n}").status_code == 200
    response = _login(client, " ANA@example.org", PASSWORD, "203.0.113.9")
    assert response.status_code == 429
    assert response["Content-Type"] == "text/html; charset=utf-8"
    [error] = response.context["form"].non_field_errors()
    assert re.fullmatch(
        r"Too many login attempts\. Please wait \d+ minutes? and try again, or reset your "
        r"password\.",
        error,
    )
    assert "_auth_user_id" not in client.session


def test_login_account_throttle_answers_the_same_for_an_unknown_address(client, settings):
    settings.LOGIN_ACCOUNT_RATE_LIMIT = (2, 900)
    UserFactory(email="ana@example.org")
    answers = []
    for email in ("ana@example.org", "nobody@example.org"):
        for n in range(3):
            response = _login(client, email, "wrong", f"198.51.100.{n}")
        answers.append((response.status_code, response.context["form"].non_field_errors()))
    assert answers[0] == answers[1]
    assert answers[0][0] == 429


def test_login_account_throttle_leaves_other_accounts_alone(client, settings):
    settings.LOGIN_ACCOUNT_RATE_LIMIT = (2, 900)
    UserFactory(email="ana@example.org")
    UserFactory(email="ben@example.org")
    for _ in range(3):
        _login(client, "ana@example.org", "wrong", "198.51.100.1")
    response = _login(client, "ben@example.org", PASSWORD, "198.51.100.1")
    assert response.status_code == 302
    assert client.session["_auth_user_id"]


@pytest.mark.parametrize("username", ["ana@example.org\x00", "a" * 10_000, "<script>@x.org"])
def test_login_hostile_username_is_a_form_error(client, username):
    UserFactory(email="ana@example.org")
    response = client.post(reverse("accounts:login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


def test_after_login_sends_organizer_to_organize_and_supporter_to_account(client):
    client.force_login(OrganizerFactory())
    assert client.get(reverse("accounts:after_login"))["Location"] == reverse("core:organize")
    client.force_login(UserFactory())
    assert client.get(reverse("accounts:after_login"))["Location"] == reverse("accounts:account")


def test_after_login_sends_supporter_with_person_to_dashboard(client):
    from rallypoint.accounts.services import account_link_person

    user = account_link_person(user=UserFactory(email="ada@example.org"))
    client.force_login(user)
    assert client.get(reverse("accounts:after_login"))["Location"] == reverse("ledger:dashboard")


def test_logout_is_a_post(client, supporter):
    client.force_login(supporter)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_working_link(client, django_capture_on_commit_callbacks, mailoutbox):
    UserFactory(email="ana@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": "ANA@example.org"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    message = OutboundEmail.objects.get()
    assert message.to == "ana@example.org"
    assert message.subject == "Reset your Rallypoint password"
    assert len(mailoutbox) == 1
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", message.body_text).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"] is True
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "brand new secret 42", "new_password2": "brand new secret 42"},
    )
    assert done["Location"] == reverse("accounts:password_reset_complete")
    assert User.objects.get().check_password("brand new secret 42")


def test_password_reset_unknown_email_sends_nothing_but_looks_the_same(client):
    response = client.post(reverse("accounts:password_reset"), {"email": "who@example.org"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert OutboundEmail.objects.count() == 0


def test_password_reset_bad_link_says_expired(client):
    response = client.get("/accounts/reset/MQ/bad-token/", follow=True)
    assert response.status_code == 200
    assert b"This link has expired" in response.content


def test_account_page_links_person_and_shows_details(client):
    person, _ = person_match_or_create(
        PersonData(email="ana@example.org", given_name="Ana", postal_code="80202")
    )
    user = UserFactory(email="ana@example.org")
    client.force_login(user)
    response = client.get(reverse("accounts:account"))
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.person_id == person.pk
    assert b"Hi, Ana" in response.content
    assert b"Denver, CO, 80202" in response.content


def test_account_unsubscribe_and_explicit_resubscribe(client):
    person, _ = person_match_or_create(PersonData(email="ana@example.org"))
    client.force_login(UserFactory(email="ana@example.org", person=person))
    client.post(reverse("accounts:subscription"), {"status": "unsubscribed"})
    assert person.email_addresses.get().status == EmailStatus.UNSUBSCRIBED
    client.post(reverse("accounts:subscription"), {"status": "subscribed"})
    assert person.email_addresses.get().status == EmailStatus.SUBSCRIBED
    client.post(reverse("accounts:subscription"), {"status": "bouncing"})
    assert person.email_addresses.get().status == EmailStatus.SUBSCRIBED


def test_account_anonymous_goes_to_login(client):
    response = client.get(reverse("accounts:account"))
    assert response["Location"].startswith("/accounts/login/")


def _admin():
    return UserFactory(email="admin@example.org", role=Role.ADMIN)


def _team_queries(client, django_assert_num_queries, count):
    admin = _admin()
    client.force_login(admin)
    for _ in range(count - 1):
        person = Person.objects.create()
        UserFactory(person=person)
    # session, user, count, page (with person joined), recent role changes
    with django_assert_num_queries(5):
        response = client.get(reverse("accounts:team"))
    assert len(response.context["page"].object_list) == count


def test_team_list_queries_with_one_account(client, django_assert_num_queries):
    _team_queries(client, django_assert_num_queries, 1)


def test_team_list_queries_with_three_accounts(client, django_assert_num_queries):
    _team_queries(client, django_assert_num_queries, 3)


def test_admin_changes_role_audited(client):
    admin = _admin()
    user = UserFactory(email="vol@example.org")
    client.force_login(admin)
    response = client.post(reverse("accounts:team_role", args=[user.pk]), {"role": "organizer"})
    assert response["Location"] == reverse("accounts:team")
    user.refresh_from_db()
    assert user.role == Role.ORGANIZER
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor_id, entry.object_id) == (
        "user.role.changed",
        admin.pk,
        str(user.pk),
    )
    assert entry.data["before"] == {"role": "supporter"}
    assert entry.data["after"] == {"role": "organizer"}
    page = client.get(reverse("accounts:team")).content.decode()
    assert "made vol@example.org organizer (was supporter)" in page


def test_admin_cannot_demote_self(client):
    admin = _admin()
    client.force_login(admin)
    client.post(reverse("accounts:team_role", args=[admin.pk]), {"role": "supporter"})
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN
    assert AuditEntry.objects.count() == 0


def test_admin_bad_role_changes_nothing(client):
    admin = _admin()
    user = UserFactory()
    client.force_login(admin)
    client.post(reverse("accounts:team_role", args=[user.pk]), {"role": "superhero"})
    user.refresh_from_db()
    assert user.role == Role.SUPPORTER
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize("factory", [UserFactory, OrganizerFactory])
def test_team_forbidden_for_non_admin_and_nothing_changes(client, factory):
    user = factory()
    role_before = user.role
    target = UserFactory(email="target@example.org")
    client.force_login(user)
    assert client.get(reverse("accounts:team")).status_code == 403
    response = client.post(reverse("accounts:team_role", args=[target.pk]), {"role": "admin"})
    assert response.status_code == 403
    assert b"This page is for admins" in response.content
    target.refresh_from_db()
    user.refresh_from_db()
    assert (target.role, user.role) == (Role.SUPPORTER, role_before)
    assert AuditEntry.objects.count() == 0


def test_team_anonymous_goes_to_login(client):
    response = client.post(reverse("accounts:team_role", args=[1]), {"role": "admin"})
    assert response["Location"].startswith("/accounts/login/")


def test_account_page_for_login_without_supporter_record(client):
    client.force_login(OrganizerFactory(email="organizer@demo.rallypoint.localhost"))
    response = client.get(reverse("accounts:account"))
    assert response.status_code == 200
    assert b"isn't connected to a supporter record yet" in response.content
