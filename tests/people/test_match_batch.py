"""match_or_create_many: a batch gives exactly what the same rows give matched one by one, for
anonymous and trusted rows alike (people, addresses, numbers, postal addresses, tags, results)."""

import copy

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rallypoint.core.models import AuditEntry
from rallypoint.people.models import Person
from rallypoint.people.services import PersonData, match_or_create_many
from tests.people.test_bulk import existing_people, row_strategy, snapshot

pytestmark = pytest.mark.django_db

rows_strategy = st.lists(
    st.one_of(
        row_strategy,
        st.builds(
            PersonData,
            email=st.sampled_from(["ana@example.org", "dee@example.org", ""]),
            phone=st.sampled_from(["+12025550103", "+12025550102", ""]),
            given_name=st.sampled_from(["", "Mallory", "Ana"]),
            identifiers=st.sampled_from([[], ["crm:1"]]),
            sms_consent=st.sampled_from([None, True, False]),
            email_status=st.sampled_from([None, "subscribed", "unsubscribed"]),
        ),
    ),
    max_size=10,
)


def valid(rows: list[PersonData]) -> list[PersonData]:
    out = []
    for data in rows:
        try:
            out.append(copy.deepcopy(data).validated())
        except ValidationError:
            continue
    return out


def comparable(results) -> list[tuple]:
    """Results with person ids replaced by their creation rank (ids differ between runs)."""
    rank = {
        pk: n for n, pk in enumerate(Person.objects.order_by("id").values_list("id", flat=True))
    }
    return [
        (
            rank[r.person_id],
            r.outcome,
            r.kept_aside,
            None if r.possible_duplicate_of is None else rank[r.possible_duplicate_of],
            r.unsubscribed,
        )
        for r in results
    ]


def kept_aside_history() -> list:
    return sorted(
        (e.data["kept_aside"] for e in AuditEntry.objects.filter(action="person.kept_aside")),
        key=repr,
    )


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=rows_strategy,
    trusted=st.booleans(),
    overwrite=st.booleans(),
    update_by_phone=st.booleans(),
)
def test_match_batch_equals_one_by_one(rows, trusted, overwrite, update_by_phone):
    rules = {"trusted": trusted, "overwrite": overwrite, "update_by_phone": update_by_phone}
    rows = valid(rows)
    with transaction.atomic():
        existing_people()
        one_by_one = []
        for data in rows:
            one_by_one += match_or_create_many([copy.deepcopy(data)], **rules)
        expected = (snapshot(), comparable(one_by_one), kept_aside_history())
        transaction.set_rollback(True)
    with transaction.atomic():
        existing_people()
        batch = match_or_create_many([copy.deepcopy(data) for data in rows], **rules)
        assert (snapshot(), comparable(batch), kept_aside_history()) == expected
        transaction.set_rollback(True)


def test_match_batch_anonymous_row_after_a_new_person_only_fills_blanks():
    results = match_or_create_many(
        [
            PersonData(email="ana@example.org", given_name="Ana").validated(),
            PersonData(
                email="ANA@example.org", given_name="Mallory", phone="2025550143"
            ).validated(),
        ]
    )
    assert [r.outcome for r in results] == ["created", "unchanged"]
    assert results[1].kept_aside == {"given_name": "Mallory", "phone": "+12025550143"}
    person = Person.objects.get()
    assert (person.given_name, person.phone_numbers.count()) == ("Ana", 0)


def test_match_batch_of_none_writes_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert match_or_create_many([]) == []


def test_match_batch_records_person_events_in_its_transaction_in_one_insert():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rallypoint.core.models import OutboxEvent

    match_or_create_many([PersonData(email="dee@example.org").validated()])
    OutboxEvent.objects.all().delete()
    rows = [
        PersonData(email="ana@example.org").validated(),
        PersonData(email="dee@example.org", email_status="unsubscribed").validated(),
    ]
    with CaptureQueriesContext(connection) as captured:
        results = match_or_create_many(rows)
    inserts = [q["sql"] for q in captured.captured_queries if "core_outboxevent" in q["sql"]]
    assert len(inserts) == 1
    assert list(OutboxEvent.objects.order_by("pk").values_list("kind", "subject_id")) == [
        ("person.created", str(results[0].person_id)),
        ("unsubscribe", str(results[1].person_id)),
        ("person.updated", str(results[1].person_id)),
    ]
    with pytest.raises(RuntimeError), transaction.atomic():
        match_or_create_many([PersonData(email="eve@example.org").validated()])
        raise RuntimeError("the caller's write failed")
    assert OutboxEvent.objects.count() == 3


def test_match_batch_for_an_import_records_no_person_events():
    from rallypoint.core.models import OutboxEvent

    match_or_create_many([PersonData(email="ana@example.org").validated()], record_events=False)
    assert OutboxEvent.objects.count() == 0
