"""Property tests of matching: the same input twice, or in another order, gives one record."""

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rallypoint.people.models import EmailAddress, Person, PhoneNumber, Tagging
from rallypoint.people.services import PersonData, person_match_or_create

pytestmark = pytest.mark.django_db

names = st.text(alphabet=string.ascii_letters + " '-", max_size=30)
locals_ = st.text(alphabet=string.ascii_lowercase + string.digits + ".+", min_size=1, max_size=20)
emails = locals_.filter(lambda s: not (s.endswith(".") or ".." in s)).map(
    lambda local: f"a{local}@example.org"
)
phones = st.integers(min_value=200_0000, max_value=999_9999).map(lambda n: f"+1202{n:07d}")
ZIPS = ["80202", "10001", "60614", "94110", "30303"]
tag_lists = st.lists(st.sampled_from(["volunteer", "donor", "north", "host"]), max_size=3)

FIELDS = {
    "email": emails,
    "phone": phones,
    "given_name": names,
    "family_name": names,
    "postal_code": st.sampled_from(ZIPS),
    "tags": tag_lists,
}


def _record(person: Person) -> tuple:
    person.refresh_from_db()
    return (
        person.given_name,
        person.family_name,
        sorted(
            EmailAddress.objects.filter(person=person).values_list("address_normalized", "status")
        ),
        sorted(PhoneNumber.objects.filter(person=person).values_list("number", "sms_consent")),
        sorted(person.postal_addresses.values_list("postal_code", "locality", "region")),
        sorted(Tagging.objects.filter(person=person).values_list("tag__name", flat=True)),
    )


SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _clear():
    Person.objects.all().delete()


@SETTINGS
@given(
    email=emails,
    phone=st.one_of(st.just(""), phones),
    given_name=names,
    family_name=names,
    tags=tag_lists,
    postal_code=st.sampled_from(["", *ZIPS]),
)
def test_match_same_input_twice_gives_one_person(
    email, phone, given_name, family_name, tags, postal_code
):
    _clear()
    data = {
        "email": email,
        "phone": phone,
        "given_name": given_name,
        "family_name": family_name,
        "tags": tags,
        "postal_code": postal_code,
    }
    first, created_first = person_match_or_create(PersonData(**data))
    before = _record(first)
    second, created_second = person_match_or_create(PersonData(**data))
    assert (created_first, created_second) == (True, False)
    assert second.pk == first.pk
    assert Person.objects.count() == 1
    assert _record(second) == before


@SETTINGS
@given(
    values=st.fixed_dictionaries(FIELDS),
    order=st.permutations(list(FIELDS)),
    other_order=st.permutations(list(FIELDS)),
)
def test_match_fields_in_any_order_give_the_same_record(values, order, other_order):
    """Each field arrives in its own organizer update (email always among them to identify
    the person); whatever the order, the stored record is the same."""

    def submit(sequence) -> tuple:
        _clear()
        person = None
        for name in sequence:
            partial = {"email": values["email"], name: values[name]}
            person, _ = person_match_or_create(PersonData(**partial), trusted=True)
        assert Person.objects.count() == 1
        return _record(person)

    assert submit(order) == submit(other_order)
