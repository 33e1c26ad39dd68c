import pytest
from django.core.exceptions import ValidationError

from rallypoint.core.models import AuditEntry
from rallypoint.ledger.models import Activity
from rallypoint.people.models import EmailAddress, Person, PhoneNumber, PostalAddress, Tagging
from rallypoint.people.services import PersonData, person_match_or_create, person_merge
from tests.factories import OrganizerFactory, TagFactory, TaggingFactory, UserFactory
from tests.people.factories import ActivityFactory

pytestmark = pytest.mark.django_db


def _pair():
    keep, _ = person_match_or_create(
        PersonData(email="ana@example.org", given_name="Ana", phone="2025550110", tags=["north"])
    )
    other, _ = person_match_or_create(
        PersonData(
            email="ana.r@example.org",
            given_name="Anna",
            family_name="Ruiz",
            phone="2025550111",
            postal_code="10001",
            tags=["north", "donor"],
        )
    )
    return keep, other


def test_merge_moves_emails_phones_addresses_and_tags():
    keep, other = _pair()
    actor = OrganizerFactory()
    person_merge(keep=keep, other=other, actor=actor)
    assert Person.objects.count() == 1
    assert sorted(EmailAddress.objects.filter(person=keep).values_list("address", "primary")) == [
        ("ana.r@example.org", False),
        ("ana@example.org", True),
    ]
    assert sorted(PhoneNumber.objects.filter(person=keep).values_list("number", flat=True)) == [
        "+12025550110",
        "+12025550111",
    ]
    codes = PostalAddress.objects.filter(person=keep).values_list("postal_code", flat=True)
    assert list(codes) == ["10001"]
    tags = sorted(Tagging.objects.filter(person=keep).values_list("tag__name", flat=True))
    assert tags == ["donor", "north"]


def test_merge_keeps_kept_names_and_fills_blanks():
    keep, other = _pair()
    merged = person_merge(keep=keep, other=other, actor=OrganizerFactory())
    merged.refresh_from_db()
    assert (merged.given_name, merged.family_name) == ("Ana", "Ruiz")
    assert f"rallypoint:{other.uuid}" in merged.foreign_identifiers


def test_merge_moves_ledger_activities():
    keep, other = _pair()
    ActivityFactory(person=other, kind="sign")
    ActivityFactory(person=other, kind="rsvp")
    ActivityFactory(person=keep, kind="call")
    person_merge(keep=keep, other=other, actor=OrganizerFactory())
    kinds = sorted(Activity.objects.filter(person=keep).values_list("kind", flat=True))
    assert kinds == ["call", "rsvp", "sign"]


def test_merge_is_audited_with_both_snapshots():
    keep, other = _pair()
    actor = OrganizerFactory()
    other_id = other.pk
    person_merge(keep=keep, other=other, actor=actor)
    entry = AuditEntry.objects.get(action="person.merged")
    assert entry.actor == actor
    assert entry.object_id == str(keep.pk)
    assert entry.data["merged"]["id"] == other_id
    assert entry.data["merged"]["emails"] == ["ana.r@example.org"]
    assert entry.data["kept"]["emails"] == ["ana@example.org"]


def test_merge_moves_account_when_kept_has_none():
    keep, other = _pair()
    user = UserFactory(email="ana.r@example.org", person=other)
    person_merge(keep=keep, other=other, actor=OrganizerFactory())
    user.refresh_from_db()
    assert user.person_id == keep.pk


def test_merge_same_phone_keeps_one_number_with_consent():
    keep, _ = person_match_or_create(PersonData(email="k@example.org", phone="2025550120"))
    other, _ = person_match_or_create(PersonData(email="k2@example.org"))
    PhoneNumber.objects.create(person=other, number="+12025550120", sms_consent=True)
    person_merge(keep=keep, other=other, actor=OrganizerFactory())
    phone = PhoneNumber.objects.get()
    assert (phone.person_id, phone.sms_consent) == (keep.pk, True)


def test_merge_shared_tag_is_not_duplicated():
    keep, other = _pair()
    tag = TagFactory(name="extra")
    TaggingFactory(person=keep, tag=tag)
    TaggingFactory(person=other, tag=tag)
    person_merge(keep=keep, other=other, actor=OrganizerFactory())
    assert Tagging.objects.filter(person=keep, tag=tag).count() == 1


def test_merge_with_itself_is_refused():
    keep, _ = _pair()
    with pytest.raises(ValidationError):
        person_merge(keep=keep, other=keep, actor=OrganizerFactory())
    assert Person.objects.count() == 2
    assert AuditEntry.objects.count() == 0
