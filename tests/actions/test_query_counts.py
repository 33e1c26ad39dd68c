"""The public petition POST is the hottest write: its statements are counted so that a change
which adds a round trip shows up here (see bench/action_submit.py for its speed)."""

import pytest
from django.urls import reverse

from rallypoint.actions.models import Submission
from rallypoint.ledger.models import Activity, Recruitment
from rallypoint.people.models import Person
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
    # savepoint, match, person, email, address, person.created outbox event, referrer,
    # submission, signature outbox event, recruitment edge, the edge read back (the insert
    # skips an edge stored earlier without saying so), the act and the sharer's "recruit" act
    # (one insert), release savepoint
    with django_assert_num_queries(13):
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
    # savepoint, match, person, email, address, person.created outbox event, submission,
    # signature outbox event, act, release savepoint
    with django_assert_num_queries(10):
        assert client.post(url, _form("new@example.org")).status_code == 302
    assert Submission.objects.filter(person__email_addresses__address="new@example.org").exists()


def test_petition_post_known_person_with_referral_statements(
    client, petition, django_assert_num_queries
):
    _, url = petition
    sharer, known = PersonFactory(), PersonFactory()
    EmailAddressFactory(person=known, address="known@example.org")
    # savepoint, match, their addresses, person update, address insert, the name they typed
    # (not their record's: kept aside in their history), person.updated outbox event,
    # referrer, their earlier signature (none), submission, signature outbox event, earlier
    # acts in the campaign, recruitment edge, the edge read back, both acts, release savepoint
    with django_assert_num_queries(16):
        assert client.post(url, _form("known@example.org", sharer.share_code)).status_code == 302
    assert Recruitment.objects.get(recruit=known).recruiter == sharer


def test_petition_post_repeat_signature_statements(client, petition, django_assert_num_queries):
    _, url = petition
    client.post(url, _form("again@example.org"))
    # savepoint, match, their addresses, person update, person.updated outbox event, their
    # earlier signature (so nothing new is written), release savepoint
    with django_assert_num_queries(7):
        assert client.post(url, _form("again@example.org")).status_code == 302
    assert (
        Submission.objects.filter(person__email_addresses__address="again@example.org").count() == 1
    )


def _warm_acts(campaign) -> list[tuple[int, str]]:
    warm = Person.objects.get(email_addresses__address_normalized="warm@example.org")
    return [(warm.pk, "sign"), (warm.recruited_by.get(campaign=campaign).recruiter_id, "recruit")]
