import pytest

from rallypoint.core.models import OutboundEmail
from rallypoint.ledger.models import Activity, Recruitment
from rallypoint.people.models import Person
from rallypoint.people.referral import Referral
from rallypoint.people.services import PersonData, person_join
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_join_twice_records_one_person_one_act_one_email(django_capture_on_commit_callbacks):
    data = PersonData(email="zoe@example.org", given_name="Zoe", postal_code="60614")
    with django_capture_on_commit_callbacks(execute=True):
        first, created_first = person_join(data=data)
        second, created_second = person_join(data=data)
    assert (created_first, created_second) == (True, False)
    assert first.pk == second.pk
    assert Person.objects.count() == 1
    assert list(Activity.objects.values_list("person_id", "kind")) == [(first.pk, "join")]
    assert list(OutboundEmail.objects.values_list("to", flat=True)) == ["zoe@example.org"]
    assert OutboundEmail.objects.get().sent_at is not None


def test_join_with_referral_records_referrer_and_recruitment():
    recruiter = PersonFactory()
    person, _ = person_join(
        data=PersonData(email="new@example.org"),
        referral=Referral(code=recruiter.share_code, channel="whatsapp"),
    )
    act = Activity.objects.get(person=person, kind="join")
    assert (act.referrer_id, act.channel) == (recruiter.pk, "whatsapp")
    edge = Recruitment.objects.get()
    assert (edge.recruiter_id, edge.recruit_id, edge.channel) == (
        recruiter.pk,
        person.pk,
        "whatsapp",
    )


def test_join_unsubscribed_person_gets_no_email():
    person_join(data=PersonData(email="quiet@example.org", email_status="unsubscribed"))
    assert OutboundEmail.objects.count() == 0
