"""people.bulk gives exactly what person_match_or_create gives row by row, with few queries."""

import copy

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rallypoint.core.models import AuditEntry
from rallypoint.people.bulk import ChangeSource, people_bulk_upsert
from rallypoint.people.models import EmailAddress, EmailStatus, Person, PhoneNumber, Tagging
from rallypoint.people.services import PersonData, person_match_or_create
from tests.factories import (
    EmailAddressFactory,
    PersonFactory,
    PhoneNumberFactory,
    PostalAddressFactory,
    TagFactory,
    TaggingFactory,
)

pytestmark = pytest.mark.django_db

EMAILS = ["ana@example.org", "ANA@example.org ", "ben@example.org", "cy@example.org", "bad@", ""]
PHONES = ["+12025550101", "(202) 555-0102", "202-555-0103", "12345", ""]
NAMES = ["", "Ana", "Anne", "Ben", "Cy"]
ZIPS = ["", "80202", "10001", "99999"]


def snapshot() -> list[tuple]:
    """Every person as comparable values (no ids or timestamps), sorted."""
    people = []
    for person in Person.objects.order_by("id"):
        people.append(
            (
                person.given_name,
                person.family_name,
                person.source,
                sorted(person.custom_fields.items()),
                person.languages_spoken,
                sorted(
                    person.email_addresses.values_list(
                        "address", "address_normalized", "primary", "status"
                    )
                ),
                sorted(
                    person.phone_numbers.values_list(
                        "number", "primary", "number_type", "sms_capable", "sms_consent"
                    )
                ),
                sorted(
                    (a.primary, a.postal_code, a.locality, a.region, a.latitude, a.address_lines)
                    for a in person.postal_addresses.all()
                ),
                sorted(person.taggings.values_list("tag__name", flat=True)),
            )
        )
    return sorted(people, key=repr)


def sequential(rows, overwrite, update_by_phone=False):
    for data in rows:
        try:
            person_match_or_create(
                copy.deepcopy(data),
                overwrite=overwrite,
                trusted=True,
                update_by_phone=update_by_phone,
            )
        except Exception as exc:  # noqa: BLE001 - a bad row is skipped, as an import does
            assert exc.__class__.__name__ == "ValidationError"


def existing_people():
    ana = PersonFactory(given_name="Ana", family_name="", source="")
    EmailAddressFactory(person=ana, address="ana@example.org", status=EmailStatus.UNSUBSCRIBED)
    PostalAddressFactory(person=ana, postal_code="80202")
    TaggingFactory(person=ana, tag=TagFactory(name="donor"))
    PhoneNumberFactory(person=ana, number="+12025550103")
    ben = PersonFactory(given_name="", family_name="Berg")
    PhoneNumberFactory(person=ben, number="+12025550102", sms_consent=False)
    # Shares Ana's number and was touched after her: a phone-only row finds them, unless Ana
    # was touched earlier in the same file.
    other = PersonFactory(given_name="Old", family_name="Phone")
    PhoneNumberFactory(person=other, number="+12025550103", primary=True)


row_strategy = st.builds(
    PersonData,
    email=st.sampled_from(EMAILS),
    phone=st.sampled_from(PHONES),
    given_name=st.sampled_from(NAMES),
    family_name=st.sampled_from(NAMES),
    postal_code=st.sampled_from(ZIPS),
    address_lines=st.sampled_from([[], ["1 Main St"], ["2 Elm St"]]),
    sms_consent=st.sampled_from([None, True, False]),
    email_status=st.sampled_from([None, "subscribed", "unsubscribed"]),
    tags=st.lists(st.sampled_from(["donor", "Volunteer", "volunteer", "host"]), max_size=2),
    custom_fields=st.dictionaries(st.sampled_from(["team", "shirt"]), st.sampled_from(["", "a"])),
    source=st.sampled_from(["", "list A"]),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(row_strategy, max_size=12),
    overwrite=st.booleans(),
    update_by_phone=st.booleans(),
)
def test_bulk_upsert_equals_row_by_row_matching(rows, overwrite, update_by_phone):
    with transaction.atomic():
        existing_people()
        sequential(rows, overwrite, update_by_phone)
        expected = snapshot()
        transaction.set_rollback(True)
    with transaction.atomic():
        existing_people()
        people_bulk_upsert(
            [(n, copy.deepcopy(d)) for n, d in enumerate(rows, 2)],
            overwrite=overwrite,
            update_by_phone=update_by_phone,
        )
        assert snapshot() == expected
        transaction.set_rollback(True)


def test_bulk_upsert_collapses_in_file_duplicates():
    result = people_bulk_upsert(
        [
            (2, PersonData(email="ana@example.org", given_name="Ana")),
            (3, PersonData(email=" ANA@example.org", family_name="Diaz")),
            (4, PersonData(phone="202-555-0199", email="ana@example.org")),
            (5, PersonData(phone="(202) 555 0199", given_name="Someone")),
        ]
    )
    # Line 5's name does not replace a known one (fill blanks only): nothing new.
    assert (result.created, result.updated, result.unchanged, result.errors) == (1, 2, 1, [])
    person = Person.objects.get()
    assert (person.given_name, person.family_name) == ("Ana", "Diaz")
    assert list(person.phone_numbers.values_list("number", flat=True)) == ["+12025550199"]
    assert set(result.person_ids.values()) == {person.pk}


def test_bulk_upsert_reports_each_bad_row_with_its_line():
    result = people_bulk_upsert(
        [
            (2, PersonData(given_name="Nobody")),
            (3, PersonData(email="not-an-email")),
            (4, PersonData(phone="555")),
            (5, PersonData(email="ok@example.org", given_name="x" * 101)),
            (6, PersonData(email="fine@example.org")),
        ]
    )
    reasons = {e.line: e.reason for e in result.errors}
    assert sorted(reasons) == [2, 3, 4, 5]
    assert reasons[2] == "No email address and no phone number."
    assert reasons[3].startswith("Email: That email address doesn't look right")
    assert reasons[4] == "Phone: That phone number isn't a real, dialable number."
    assert reasons[5] == "First name: Keep this under 100 characters."
    assert (result.created, result.updated) == (1, 0)
    assert list(EmailAddress.objects.values_list("address", flat=True)) == ["fine@example.org"]


def test_bulk_upsert_fill_blanks_only_keeps_known_values():
    person = PersonFactory(given_name="Ana", family_name="")
    EmailAddressFactory(person=person, address="ana@example.org", status=EmailStatus.UNSUBSCRIBED)
    people_bulk_upsert(
        [(2, PersonData(email="ana@example.org", given_name="Anna", family_name="Diaz"))],
        overwrite=False,
    )
    person.refresh_from_db()
    assert (person.given_name, person.family_name) == ("Ana", "Diaz")
    assert EmailAddress.objects.get().status == EmailStatus.UNSUBSCRIBED


def test_bulk_upsert_adds_job_tags_and_source_to_everyone():
    people_bulk_upsert(
        [(2, PersonData(email="a@example.org")), (3, PersonData(email="b@example.org"))],
        tags=["Spring list"],
        source="spring.csv",
    )
    assert sorted(Tagging.objects.values_list("person__source", "tag__name")) == [
        ("spring.csv", "Spring list"),
        ("spring.csv", "Spring list"),
    ]


def test_bulk_upsert_query_count_does_not_grow_with_rows(django_assert_max_num_queries):
    TagFactory(name="volunteer")
    existing = PersonFactory()
    EmailAddressFactory(person=existing, address="known@example.org")

    def rows(n):
        return [
            (i, PersonData(email=f"p{i}@example.org", phone=f"+1202555{i:04d}", postal_code="802"))
            for i in range(n)
        ] + [(n, PersonData(email="known@example.org", given_name="Known"))]

    with django_assert_max_num_queries(18):
        people_bulk_upsert(rows(3), tags=["volunteer"])
    # Past SMALL_BATCH rows new people and contacts are written in bulk (COPY on PostgreSQL; on
    # SQLite the new ids are read back with one more statement): from there on, the count
    # stays the same.
    with django_assert_max_num_queries(18) as some:
        people_bulk_upsert(rows(150)[3:], tags=["volunteer"])
    with django_assert_max_num_queries(18) as many:
        people_bulk_upsert(rows(300)[150:], tags=["volunteer"])
    assert len(some.captured_queries) == len(many.captured_queries)
    assert Person.objects.count() == 301
    assert PhoneNumber.objects.count() == 300


def test_bulk_rows_get_distinct_version_4_uuids_the_orm_reads_back():
    import uuid

    people_bulk_upsert(
        [(i, PersonData(email=f"u{i}@example.org", tags=["uuid"])) for i in range(200)]
    )
    people = list(Person.objects.order_by("id").values_list("uuid", flat=True))
    taggings = list(Tagging.objects.values_list("uuid", flat=True))
    assert len(people) == len(taggings) == 200
    made = people + taggings
    assert len(set(made)) == 400
    assert all(
        isinstance(u, uuid.UUID) and u.version == 4 and u.variant == uuid.RFC_4122 for u in made
    )
    # And each is found again by its own value, as the API looks people up.
    assert Person.objects.get(uuid=people[123]).email_addresses.get().address == "u123@example.org"


def mixed_file_people():
    """Ana (known email), Ben (known phone, no email)."""
    ana = PersonFactory(given_name="Ana", family_name="")
    EmailAddressFactory(person=ana, address="ana@example.org")
    ben = PersonFactory(given_name="Ben", family_name="Berg")
    PhoneNumberFactory(person=ben, number="+12025550102")
    return ana, ben


MIXED_FILE = [
    # new email, Ben's phone: a new person, never Ben
    PersonData(email="mallory@example.org", phone="202-555-0102", given_name="Mallory"),
    # known email: Ana is updated
    PersonData(email="ana@example.org", family_name="Diaz"),
    # known email and another person's phone: Ana, who gets the number too
    PersonData(email="ANA@example.org", phone="(202) 555-0102"),
]


@pytest.mark.parametrize("update_by_phone", [False, True])
@pytest.mark.parametrize("overwrite", [False, True])
def test_bulk_upsert_mixed_file_equals_row_by_row_matching(overwrite, update_by_phone):
    outcomes = {}
    with transaction.atomic():
        mixed_file_people()
        outcomes["one by one"] = [
            person_match_or_create(
                copy.deepcopy(data),
                overwrite=overwrite,
                trusted=True,
                update_by_phone=update_by_phone,
            )[1]
            for data in MIXED_FILE
        ]
        expected = snapshot()
        transaction.set_rollback(True)
    with transaction.atomic():
        mixed_file_people()
        result = people_bulk_upsert(
            [(n, copy.deepcopy(d)) for n, d in enumerate(MIXED_FILE, 2)],
            overwrite=overwrite,
            update_by_phone=update_by_phone,
        )
        outcomes["bulk"] = [row.outcome == "created" for row in result.rows]
        assert snapshot() == expected
        transaction.set_rollback(True)
    assert outcomes["bulk"] == outcomes["one by one"] == [not update_by_phone, False, False]


def test_bulk_upsert_new_email_with_known_phone_creates_a_possible_duplicate():
    ana, ben = mixed_file_people()
    result = people_bulk_upsert([(n, copy.deepcopy(d)) for n, d in enumerate(MIXED_FILE, 2)])
    ben.refresh_from_db()
    assert (ben.given_name, ben.family_name, ben.email_addresses.count()) == ("Ben", "Berg", 0)
    mallory = EmailAddress.objects.get(address="mallory@example.org").person
    assert mallory.given_name == "Mallory"
    assert [(r.line, r.person_id, r.outcome, r.duplicate_of) for r in result.rows] == [
        (2, mallory.pk, "created", ben.pk),
        (3, ana.pk, "updated", None),
        (4, ana.pk, "updated", mallory.pk),
    ]
    counts = (result.created, result.updated, result.unchanged, result.possible_duplicates)
    assert counts == (1, 2, 0, 2)


def test_bulk_upsert_update_by_phone_updates_the_phone_owner():
    ana, ben = mixed_file_people()
    result = people_bulk_upsert([(2, copy.deepcopy(MIXED_FILE[0]))], update_by_phone=True)
    ben.refresh_from_db()
    assert ben.given_name == "Ben"  # fill blanks only: the known name stays
    assert list(ben.email_addresses.values_list("address", flat=True)) == ["mallory@example.org"]
    assert [(r.person_id, r.outcome, r.duplicate_of) for r in result.rows] == [
        (ben.pk, "updated", None)
    ]
    assert Person.objects.count() == 2


def test_bulk_write_puts_each_change_of_a_known_person_in_their_history(organizer):
    ana, ben = mixed_file_people()
    PostalAddressFactory(person=ana, postal_code="80202")
    unsubscribed = EmailAddressFactory(person=ben, address="ben@example.org")
    people_bulk_upsert(
        [
            (2, PersonData(email="ana@example.org", family_name="Diaz", postal_code="10001")),
            (3, PersonData(email="ana@example.org", phone="202-555-0199", tags=["Donor"])),
            (4, PersonData(email="ben@example.org", email_status="unsubscribed")),
            (5, PersonData(email="ben@example.org", given_name="Benjamin")),  # known name kept
            (6, PersonData(email="cy@example.org", given_name="Cy")),  # new: no history
        ],
        overwrite=False,
        changed_by=ChangeSource("import #7", actor_id=organizer.pk),
    )
    entries = {
        e.object_id: (e.actor_id, e.data)
        for e in AuditEntry.objects.filter(action="person.updated", object_type="people.person")
    }
    assert entries == {
        str(ana.pk): (
            organizer.pk,
            {
                "source": "import #7",
                "lines": [2, 3],
                "before": {"family_name": "", "phone_added": "", "tags_added": ""},
                "after": {
                    "family_name": "Diaz",
                    "phone_added": "+12025550199",
                    "tags_added": "Donor",
                },
            },
        ),
        str(ben.pk): (
            organizer.pk,
            {
                "source": "import #7",
                "lines": [4],
                "before": {"email_status ben@example.org": "subscribed"},
                "after": {"email_status ben@example.org": "unsubscribed"},
            },
        ),
    }
    unsubscribed.refresh_from_db()
    assert unsubscribed.status == EmailStatus.UNSUBSCRIBED


def test_bulk_write_history_query_count_does_not_grow_with_changed_people(
    django_assert_max_num_queries,
):
    def known(prefix, count):
        for i in range(count):
            EmailAddressFactory(person=PersonFactory(given_name=""), address=f"{prefix}{i}@x.org")
        return [(i, PersonData(email=f"{prefix}{i}@x.org", given_name="N")) for i in range(count)]

    few_rows, many_rows = known("a", 2), known("b", 200)
    source = ChangeSource("import #1")
    with django_assert_max_num_queries(18) as few:
        people_bulk_upsert(few_rows, changed_by=source)
    with django_assert_max_num_queries(18) as many:
        people_bulk_upsert(many_rows, changed_by=source)
    assert len(many.captured_queries) == len(few.captured_queries)
    assert AuditEntry.objects.filter(action="person.updated").count() == 202
