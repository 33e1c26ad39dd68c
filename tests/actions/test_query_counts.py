"""The public petition POST is the hottest write: its statements are counted so that a change
which adds a round trip shows up here (see bench/action_submit.py for its speed)."""

import pytest
from django.urls import reverse

from rallypoint.actions.models import Submission
from rallypoint.ledger.models import Activity
from rallypoint.people.models import Person
from rallypoint.sharing.models import Recruitment
from tests.actions.factories import ActionFactory
from tests.factories import EmailAddressFactory, PersonFactory

pytestmark = pytest.mark.django_db


def _form(email: str, ref: str = "") -> dict[str, str]:
    return {
        "given_name": "Ana",
        "family_name": "Ruiz",
        "email": email,
        "postal_code": "80202",
        "ref": ref,
        "ch": "facebook",
    }


@pytest.fixture
def petition(client):
    action = ActionFactory()
    url = reverse("actions:detail", args=[action.slug])
    # Warm the per-process caches (the action page, content types) with someone else.
    warm = _form("warm@example.org", PersonFactory().share_code)
    assert client.post(url, warm).status_code == 302
    return action, url


def test_petition_post_new_person_with_referral_statements(
    client, petition, django_assert_num_queries
):
    action, url = petition
    sharer = PersonFactory()
    # savepoint, match, person, email, address, referrer, submission, recruitment edge,
    # the act and the sharer's "recruit" act (one insert), release savepoint
    with django_assert_num_queries(10):
        response = client.post(url, _form("new@example.org", sharer.share_code))
    assert response.status_code == 302
    person = Person.objects.get(email_addresses__address_normalized="new@example.org")
    assert Recruitment.objects.get(recruit=person).recruiter == sharer
    assert sorted(
        Activity.objects.filter(campaign=action.campaign).values_list("person_id", "kind")
    ) == sorted([(person.pk, "sign"), (sharer.pk, "recruit"), *_warm_acts(action.campaign)])


def test_petition_post_new_person_without_referral_statements(
    client, petition, django_assert_num_queries
):
    _, url = petition
    # savepoint, match, person, email, address, submission, act, release savepoint
    with django_assert_num_queries(8):
        assert client.post(url, _form("new@example.org")).status_code == 302
    assert Submission.objects.filter(person__email_addresses__address="new@example.org").exists()


def test_petition_post_known_person_with_referral_statements(
    client, petition, django_assert_num_queries
):
    _, url = petition
    sharer, known = PersonFactory(), PersonFactory()
    EmailAddressFactory(person=known, address="known@example.org")
    # savepoint, match, their addresses, address insert, person update, the name they typed
    # (not their record's: kept aside in their history), referrer, submission, earlier acts in
    # the campaign, recruitment edge, both acts, release savepoint
    with django_assert_num_queries(12):
        assert client.post(url, _form("known@example.org", sharer.share_code)).status_code == 302
    assert Recruitment.objects.get(recruit=known).recruiter == sharer


def test_petition_post_repeat_signature_statements(client, petition, django_assert_num_queries):
    _, url = petition
    client.post(url, _form("again@example.org"))
    # savepoint, match, their addresses, person update, submission (skipped: signed already),
    # the earlier submission, release savepoint
    with django_assert_num_queries(7):
        assert client.post(url, _form("again@example.org")).status_code == 302
    assert (
        Submission.objects.filter(person__email_addresses__address="again@example.org").count() == 1
    )


def _warm_acts(campaign) -> list[tuple[int, str]]:
    warm = Person.objects.get(email_addresses__address_normalized="warm@example.org")
    return [(warm.pk, "sign"), (warm.recruited_by.get(campaign=campaign).recruiter_id, "recruit")]


def test_petition_post_statements_are_compiled_once(client, petition):
    from django.db import connection, connections

    from rallypoint.core import statements

    _, url = petition
    sharer, known = PersonFactory(), PersonFactory()
    EmailAddressFactory(person=known, address="known@example.org")
    with_phone = {**_form("phone@example.org", sharer.share_code), "phone": "2025550143"}
    assert client.post(url, with_phone).status_code == 302
    assert client.post(url, _form("known@example.org", sharer.share_code)).status_code == 302
    assert client.post(url, _form("known@example.org")).status_code == 302  # signed already
    cache = connections["default"].__dict__[statements._CACHE_ATTR]
    # SQLite binds datetimes as text, so the earlier-acts check (by time) stays with the ORM.
    earlier = "_SelectStatement" if connection.vendor == "postgresql" else "object"
    expected = {
        "people.match.email": "_SelectStatement",
        "people.postal_addresses": "_SelectStatement",
        "ledger.referrer": "_SelectStatement",
        "ledger.earlier_act": earlier,
        "actions.counted_submission": "_SelectStatement",
    }
    assert {name: type(cache.get(("select", name))).__name__ for name in expected} == expected
    inserted = {key[1].__name__ for key in cache if key[0] == "insert"}
    assert {"Person", "EmailAddress", "PhoneNumber", "PostalAddress", "Submission"} <= inserted
    assert {"Recruitment", "Activity"} <= inserted
