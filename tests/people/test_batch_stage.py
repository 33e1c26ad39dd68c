"""Big batches write their independent new rows set-based (people.services.batch_stage): the
result is exactly what the same rows give matched one by one, whatever the text holds, with
keys repeated inside the batch, and with new people numbered in row order."""

import contextlib
import copy
import pickle
import threading
import time
from unittest import mock

import pytest
from django.db import connection, connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rallypoint.people.bulk import people_bulk_prepare
from rallypoint.people.models import EmailAddress, Person, PhoneNumber, PostalAddress, Tagging
from rallypoint.people.services import PersonData, match_or_create_many
from rallypoint.people.services.batch_state import STAGE_MIN_ROWS
from tests.people.test_bulk import existing_people, snapshot
from tests.people.test_match_batch import comparable, kept_aside_history, rows_strategy, valid

pytestmark = pytest.mark.django_db


def staged_always():
    """Every batch, however small, goes through the staged path."""
    return mock.patch("rallypoint.people.services.batch.STAGE_MIN_ROWS", 1)


def one_by_one_then_batch(rows, *, prepare=None, force_staged=False, **rules):
    """(snapshot, results, kept aside) of the rows matched one by one, then of them as one batch
    (`force_staged`: through the staged path even when small), each in a rolled-back
    transaction."""
    outcomes = []
    for as_batch in (False, True):
        with transaction.atomic():
            if prepare is not None:
                prepare()
            if as_batch:
                with staged_always() if force_staged else contextlib.nullcontext():
                    results = match_or_create_many([copy.deepcopy(d) for d in rows], **rules)
            else:
                results = []
                for data in rows:
                    results += match_or_create_many([copy.deepcopy(data)], **rules)
            outcomes.append((snapshot(), comparable(results), kept_aside_history()))
            transaction.set_rollback(True)
    return outcomes


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=rows_strategy,
    trusted=st.booleans(),
    overwrite=st.booleans(),
    update_by_phone=st.booleans(),
)
def test_staged_batch_equals_one_by_one(rows, trusted, overwrite, update_by_phone):
    one_by_one, batch = one_by_one_then_batch(
        valid(rows),
        prepare=existing_people,
        force_staged=True,
        trusted=trusted,
        overwrite=overwrite,
        update_by_phone=update_by_phone,
    )
    assert batch == one_by_one


ODD_TEXT = [
    "tab\there",
    "new\nline",
    "carriage\rreturn",
    "back\\slash",
    "\\N",
    "NULL",
    "quote \" and ' both",
    "emoji 🎉✊🏽",
    "e\u0301 combining",
    "עברית RTL",
    "zero\u200bwidth",
    "  padded  ",
    '{"json": [1]}',
]


def odd_rows(count=STAGE_MIN_ROWS + 20):
    rows = []
    for i in range(count):
        odd = ODD_TEXT[i % len(ODD_TEXT)]
        rows.append(
            PersonData(
                email=f"odd{i}@example.org",
                phone=f"+1202555{i:04d}" if i % 3 == 0 else "",
                given_name=odd[:100],
                family_name=f"{odd} {i}"[:100],
                source=odd,
                address_lines=[odd, "Apt 2"] if i % 2 else [],
                postal_code="80202" if i % 4 else "",
                custom_fields={odd.strip() or "blank": odd, " Shoe size ": " 42 "},
                languages_spoken=["es", odd, "es"],
                identifiers=[f"crm:{odd}"],
                tags=[odd, "Volunteer", "volunteer "],
                sms_consent=(True, False, None)[i % 3],
            ).validated()
        )
    return rows


def test_staged_rows_keep_odd_text_exactly():
    rows = odd_rows()
    one_by_one, batch = one_by_one_then_batch(rows, trusted=True)
    assert batch == one_by_one
    # And read back as written, by the ORM.
    match_or_create_many(rows, trusted=True)
    person = Person.objects.get(email_addresses__address="odd4@example.org")
    assert (person.given_name, person.source) == ("\\N", "\\N")
    assert person.custom_fields == {"\\N": "\\N", "Shoe size": "42"}
    assert person.languages_spoken == ["es", "\\N"]
    assert person.foreign_identifiers == ["crm:\\N"]
    assert PostalAddress.objects.get(
        person__email_addresses__address="odd1@example.org"
    ).address_lines == [
        "new\nline",
        "Apt 2",
    ]
    emoji = Person.objects.get(email_addresses__address="odd7@example.org")
    assert emoji.family_name == "emoji 🎉✊🏽 7"
    assert Person.objects.get(email_addresses__address="odd11@example.org").given_name == "padded"


def test_staged_batch_with_keys_repeated_inside_it_equals_one_by_one():
    rows = []
    for i in range(STAGE_MIN_ROWS + 30):
        rows.append(PersonData(email=f"p{i}@example.org", given_name=f"P{i}"))
        if i % 25 == 0:
            # The same address again (another case), a number twice, a number then an address.
            rows.append(PersonData(email=f"P{i}@EXAMPLE.org", family_name="Again"))
            rows.append(PersonData(email=f"q{i}@example.org", phone=f"+1303555{i:04d}"))
            rows.append(PersonData(email=f"r{i}@example.org", phone=f"+1303555{i:04d}"))
            rows.append(PersonData(phone=f"+1303555{i:04d}", given_name="Phone only"))
    rows = [data.validated() for data in rows]
    for rules in (
        {"trusted": True, "update_by_phone": True},
        {"trusted": True, "update_by_phone": False, "overwrite": False},
        {"trusted": False},
    ):
        one_by_one, batch = one_by_one_then_batch(rows, prepare=existing_people, **rules)
        assert batch == one_by_one, rules


def test_staged_batch_numbers_new_people_in_row_order():
    existing_people()  # ana@example.org, +12025550103
    rows = [PersonData(email=f"n{i}@example.org").validated() for i in range(STAGE_MIN_ROWS + 10)]
    rows[3] = PersonData(email="twice@example.org", given_name="First").validated()
    rows[40] = PersonData(email="TWICE@example.org", family_name="Second").validated()
    rows[60] = PersonData(email="ana@example.org", given_name="Ana").validated()
    results = match_or_create_many(rows, trusted=True)
    created = [r.person_id for r in results if r.created]
    assert created == sorted(created)
    assert len(created) == len(rows) - 2
    assert results[40].person_id == results[3].person_id
    assert (results[40].outcome, results[60].outcome) == ("updated", "unchanged")
    twice = Person.objects.get(pk=results[3].person_id)
    assert (twice.given_name, twice.family_name) == ("First", "Second")


def test_staged_batch_never_reuses_the_id_of_a_deleted_person():
    (gone,) = match_or_create_many([PersonData(email="gone@example.org").validated()])
    Person.objects.filter(pk=gone.person_id).delete()
    results = match_or_create_many(
        [PersonData(email=f"n{i}@example.org").validated() for i in range(STAGE_MIN_ROWS)]
    )
    assert min(r.person_id for r in results) > gone.person_id


def test_staged_batch_writes_contacts_and_tags_like_a_small_one():
    rows = [
        PersonData(
            email=f"c{i}@example.org",
            phone=f"+1202555{i:04d}",
            postal_code="80202",
            tags=["Donor", "donor", "Host"],
            sms_consent=i % 2 == 0,
            email_status="unsubscribed" if i == 5 else None,
        ).validated()
        for i in range(STAGE_MIN_ROWS + 5)
    ]
    results = match_or_create_many(rows, trusted=True, record_events=False)
    assert all(r.created and r.record is None for r in results)
    phone = PhoneNumber.objects.get(number="+12025550002")
    assert (phone.primary, phone.sms_consent, phone.sms_capable) == (True, True, True)
    assert phone.sms_consent_at is not None
    assert PhoneNumber.objects.get(number="+12025550003").sms_consent_at is None
    assert EmailAddress.objects.get(address="c5@example.org").status == "unsubscribed"
    address = PostalAddress.objects.get(person_id=results[0].person_id)
    assert (address.primary, address.locality, address.region) == (True, "Denver", "CO")
    assert Tagging.objects.count() == 2 * len(rows)
    person = Person.objects.get(pk=results[0].person_id)
    assert len(person.share_code) == 10 and person.uuid.version == 4


def test_prepared_rows_travel_as_tuples_and_come_back_validated():
    prepared = people_bulk_prepare(
        [
            (2, PersonData(email="ana@example.org", phone="303-555-0101", postal_code="80202")),
            (3, PersonData(email="not an email")),
        ]
    )
    back = pickle.loads(pickle.dumps(prepared))
    ((line, data),) = back.valid
    ((_, original),) = prepared.valid
    assert (line, data) == (2, original)
    assert data.checked and data.phone_type and data.phone_type == original.phone_type
    assert data.address == original.address and data.address["locality"] == "Denver"
    assert [e.line for e in back.errors] == [3]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite runs one writer at a time: no race"
)
def test_staged_batch_concurrent_same_new_email_is_matched_again():
    first_written = threading.Event()

    def first_submission():
        try:
            with transaction.atomic():
                match_or_create_many([PersonData(email="race@example.org").validated()])
                first_written.set()
                time.sleep(0.5)  # the batch reaches its email insert meanwhile
        finally:
            connections.close_all()

    thread = threading.Thread(target=first_submission)
    thread.start()
    assert first_written.wait(10)
    rows = [PersonData(email=f"n{i}@example.org").validated() for i in range(STAGE_MIN_ROWS)]
    rows.append(PersonData(email="RACE@example.org", given_name="Ana").validated())
    results = match_or_create_many(rows, trusted=True)
    thread.join()
    assert [r.outcome for r in results].count("created") == STAGE_MIN_ROWS
    assert results[-1].outcome == "updated"
    assert Person.objects.count() == STAGE_MIN_ROWS + 1
    assert EmailAddress.objects.get(address="race@example.org").person.given_name == "Ana"
