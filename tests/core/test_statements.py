"""Statements compiled once by the ORM and run again with new values (core.statements)."""

import uuid
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, connections, models, transaction
from django.db.models.functions import Now
from django.utils import timezone

from rallypoint.core import statements
from rallypoint.core.statements import Select, insert, update
from rallypoint.ledger.models import Activity
from rallypoint.people.models import EmailAddress, Person, PostalAddress
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def _cached() -> dict:
    return connections["default"].__dict__.get(statements._CACHE_ATTR, {})


def _row(obj: models.Model) -> dict:
    """The stored row as the ORM reads it, by attname."""
    fresh = type(obj)._base_manager.get(pk=obj.pk)
    return {f.attname: getattr(fresh, f.attname) for f in type(obj)._meta.concrete_fields}


def _attrs(obj: models.Model) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_insert_writes_what_save_would(django_assert_num_queries):
    before = timezone.now()
    person = Person(given_name="Ana", custom_fields={"shirt": "M"}, languages_spoken=["es"])
    with django_assert_num_queries(1):
        assert insert(person) is True
    assert person.pk is not None and person._state.adding is False
    assert person.created_at >= before and person.modified_at >= before
    assert _row(person) == _attrs(person)
    assert isinstance(_row(person)["uuid"], uuid.UUID)


def test_insert_compiles_once_and_reuses_the_sql_with_new_values(django_assert_num_queries):
    first, second = PersonFactory(), PersonFactory()
    insert(EmailAddress(person=first, address="a@example.org", address_normalized="a@example.org"))
    # Other tests on this connection may have compiled other EmailAddress inserts.
    keys = [k for k in _cached() if k[:2] == ("insert", EmailAddress) and k[3:] == (1, False)]
    assert len(keys) == 1
    cached = _cached()[keys[0]]
    email = EmailAddress(
        person=second, address="B@example.org", address_normalized="b@example.org", primary=True
    )
    with django_assert_num_queries(1):
        insert(email)
    assert _cached()[keys[0]] is cached
    assert _row(email) == _attrs(email)
    assert (email.person_id, email.primary, email.status) == (second.pk, True, "subscribed")


def test_insert_ignore_conflicts_says_whether_it_wrote():
    person = PersonFactory()
    kept = EmailAddress(person=person, address="x@example.org", address_normalized="x@example.org")
    assert insert(kept, ignore_conflicts=True) is True
    twin = EmailAddress(
        person=PersonFactory(), address="X@example.org", address_normalized="x@example.org"
    )
    with transaction.atomic():
        assert insert(twin, ignore_conflicts=True) is False
        # The surrounding transaction still works: no savepoint and no error were needed.
        assert EmailAddress.objects.filter(address_normalized="x@example.org").count() == 1
    assert twin.pk is None and twin._state.adding is True
    assert list(EmailAddress.objects.values_list("pk", "person_id")) == [(kept.pk, person.pk)]


def test_insert_several_rows_in_one_statement_in_order(django_assert_num_queries):
    ana, bo = PersonFactory(), PersonFactory()
    at = timezone.now() - timedelta(days=1)
    acts = [
        Activity(person=ana, kind="sign", points=3, details={"action": 1}, created_at=at),
        Activity(person=bo, kind="recruit", points=5, channel="email", created_at=at),
    ]
    for _ in range(2):  # compiled, then reused
        with django_assert_num_queries(1):
            insert(*acts)
        assert acts[0].pk < acts[1].pk
        assert [_row(a) for a in acts] == [_attrs(a) for a in acts]
        for act in acts:
            act.pk = None
    assert Activity.objects.count() == 4


def test_insert_few_rows_as_values_many_rows_as_the_backend_binds_them(
    django_assert_num_queries,
):
    """Up to VALUES_ROWS_MAX rows go as `VALUES (…), (…)` (no column arrays to dump); more rows
    keep the backend's own form (UNNEST of column arrays on PostgreSQL). Both write the same."""
    ana = PersonFactory()
    at = timezone.now() - timedelta(hours=1)
    for n in (2, statements.VALUES_ROWS_MAX, statements.VALUES_ROWS_MAX + 1):
        acts = [
            Activity(person=ana, kind="sign", points=i, details={"n": i}, created_at=at)
            for i in range(n)
        ]
        with django_assert_num_queries(1) as queries:
            insert(*acts)
        sql_text = queries.captured_queries[0]["sql"]
        assert ("UNNEST" in sql_text) is (
            n > statements.VALUES_ROWS_MAX and connection.vendor == "postgresql"
        )
        assert [a.pk for a in acts] == sorted(a.pk for a in acts)
        assert [_row(a) for a in acts] == [_attrs(a) for a in acts]


def test_insert_expression_value_goes_through_the_orm():
    person = PersonFactory()
    address = PostalAddress(person=person, postal_code="80202", latitude=models.Value(39.75))
    assert insert(address) is True
    assert PostalAddress.objects.get(pk=address.pk).latitude == 39.75
    # …and a plain value on the same statement afterwards still works.
    plain = PostalAddress(person=person, postal_code="10001", latitude=40.7)
    assert insert(plain) is True
    assert PostalAddress.objects.get(pk=plain.pk).latitude == 40.7


def test_insert_refuses_mixed_models_and_several_rows_ignoring_conflicts():
    person = PersonFactory()
    with pytest.raises(ValueError):
        insert(person, EmailAddress(person=person, address="a@b.org"))
    with pytest.raises(ValueError):
        insert(Person(), Person(), ignore_conflicts=True)


BY_EMAIL = Select(
    "test.by_email",
    Person,
    lambda key: Person.objects.filter(email_addresses__address_normalized=key)[:1],
)


def _with_email(address: str, **fields) -> Person:
    person = PersonFactory(**fields)
    EmailAddress.objects.create(person=person, address=address, address_normalized=address)
    return person


def test_select_returns_what_the_orm_returns_and_compiles_once(django_assert_num_queries):
    ana = _with_email("ana@example.org", custom_fields={"k": "v"}, languages_spoken=["es"])
    bo = _with_email("bo@example.org")
    found = BY_EMAIL.one("ana@example.org")
    assert _attrs(found) == _attrs(ana) and found._state.adding is False
    assert isinstance(found.uuid, uuid.UUID) and found.custom_fields == {"k": "v"}
    cached = _cached()[("select", "test.by_email")]
    with django_assert_num_queries(1):
        again = BY_EMAIL.one("bo@example.org")
    assert _attrs(again) == _attrs(bo)
    assert _cached()[("select", "test.by_email")] is cached
    assert BY_EMAIL.one("nobody@example.org") is None


def test_select_deferred_fields_and_values_list():
    ana = PersonFactory(given_name="Ana")
    by_code = Select(
        "test.by_code",
        Person,
        lambda code: Person.objects.filter(share_code=code).only("id", "share_code")[:1],
    )
    found = by_code.one(ana.share_code)
    assert found.get_deferred_fields() >= {"given_name"}
    assert (found.pk, found.given_name) == (ana.pk, "Ana")  # loads on access
    rows = Select(
        "test.names",
        Person,
        lambda given: Person.objects.filter(given_name=given).values_list("id", "uuid"),
    )
    assert rows.all("Ana") == [(ana.pk, ana.uuid)]
    assert rows.all("Ana") == [(ana.pk, ana.uuid)]  # cached
    assert type(_cached()[("select", "test.names")]).__name__ == "_SelectStatement"


def test_select_with_annotations_and_union():
    ana = _with_email("ana@example.org")
    ranked = Select(
        "test.ranked",
        Person,
        lambda r0, key, r1, name: (
            Person.objects.filter(email_addresses__address_normalized=key)
            .annotate(rank=models.Value(r0))
            .order_by()
            .union(
                Person.objects.filter(given_name=name).annotate(rank=models.Value(r1)).order_by(),
                all=True,
            )
            .order_by("rank")
        ),
    )
    bo = PersonFactory(given_name="Bo")
    for _ in range(2):
        found = ranked.all(0, "ana@example.org", 1, "Bo")
        assert [(p.pk, p.rank) for p in found] == [(ana.pk, 0), (bo.pk, 1)]
    assert type(_cached()[("select", "test.ranked")]).__name__ == "_SelectStatement"


def test_select_whose_parameters_are_not_its_arguments_stays_with_the_orm():
    PersonFactory(given_name="Anabel")
    contains = Select(
        "test.contains",
        Person,
        lambda part: Person.objects.filter(given_name__icontains=part).values_list("given_name"),
    )
    assert contains.all("nab") == [("Anabel",)]
    assert _cached()[("select", "test.contains")] is statements._UNCACHEABLE
    assert contains.all("bel") == [("Anabel",)]
    assert contains.all("zzz") == []


def test_select_equal_arguments_are_not_compiled_until_they_differ():
    ana = PersonFactory(given_name="Ana", family_name="Ana")
    both = Select(
        "test.both_names",
        Person,
        lambda given, family: (
            Person.objects.filter(given_name=given).filter(family_name=family).values_list("id")
        ),
    )
    assert both.all("Ana", "Ana") == [(ana.pk,)]
    assert ("select", "test.both_names") not in _cached()
    assert both.all("Ana", "Ruiz") == []
    assert type(_cached()[("select", "test.both_names")]).__name__ == "_SelectStatement"
    assert both.all("Ana", "Ana") == [(ana.pk,)]


def test_select_parameters_in_another_order_than_the_arguments_stay_with_the_orm():
    ana = PersonFactory(given_name="Ana", family_name="Ruiz")
    # filter() sorts its keywords: family_name's parameter comes first in the SQL.
    swapped = Select(
        "test.swapped",
        Person,
        lambda given, family: Person.objects.filter(
            given_name=given, family_name=family
        ).values_list("id"),
    )
    assert swapped.all("Ana", "Ruiz") == [(ana.pk,)]
    assert _cached()[("select", "test.swapped")] is statements._UNCACHEABLE
    assert swapped.all("Ana", "Ruiz") == [(ana.pk,)]
    assert swapped.all("Ruiz", "Ana") == []


def test_select_datetime_parameters():
    person = PersonFactory()
    act = Activity.objects.create(person=person, kind="sign", created_at=timezone.now())
    earlier = Select(
        "test.earlier",
        Activity,
        lambda pid, at: (
            Activity.objects.filter(person_id=pid).filter(created_at__lt=at).values_list("id")
        ),
    )
    later = act.created_at + timedelta(seconds=1)
    assert earlier.all(person.pk, later) == [(act.pk,)]
    assert earlier.all(person.pk, act.created_at) == []
    expected = "_SelectStatement" if connection.vendor == "postgresql" else "object"
    assert type(_cached()[("select", "test.earlier")]).__name__ == expected


def test_statements_are_kept_per_connection():
    insert(PersonFactory.build())
    assert any(k[0] == "insert" for k in _cached())
    assert statements._CACHE_ATTR not in connections["default"].__class__.__dict__


def test_now_is_an_expression():
    # Values that are SQL expressions are never bound as parameters.
    assert statements._is_expression(Now())
    assert not statements._is_expression("Now()")


def test_update_writes_the_named_fields_like_save(django_assert_num_queries):
    ana, bo = PersonFactory(given_name="Ana", family_name="Ruiz"), PersonFactory()
    stamp = ana.modified_at
    ana.given_name, ana.family_name = "Anna", "Changed in memory only"
    with django_assert_num_queries(1):
        update(ana, ["given_name", "modified_at"])
    stored = Person.objects.get(pk=ana.pk)
    assert (stored.given_name, stored.family_name) == ("Anna", "Ruiz")
    assert stored.modified_at == ana.modified_at > stamp
    get = Person._meta.get_field
    key = ("update", Person, (get("modified_at"), get("given_name")))  # the model's field order
    cached = _cached()[key]
    assert isinstance(cached, str)
    bo.given_name = "Bo"
    with django_assert_num_queries(1):
        update(bo, ["modified_at", "given_name"])
    assert _cached()[key] is cached
    assert Person.objects.get(pk=bo.pk).given_name == "Bo"
    assert Person.objects.get(pk=ana.pk).given_name == "Anna"


def test_update_of_a_deleted_row_raises_like_save():
    ana = PersonFactory()
    Person.objects.filter(pk=ana.pk).delete()
    with pytest.raises(DatabaseError):
        update(ana, ["modified_at"])


def test_update_json_and_unknown_fields():
    ana = PersonFactory()
    for shirt in ("M", "L"):  # compiled (or left to save()), then again
        ana.custom_fields = {"shirt": shirt}
        update(ana, ["custom_fields", "modified_at"])
        assert Person.objects.get(pk=ana.pk).custom_fields == {"shirt": shirt}
    with pytest.raises(ValueError):
        update(ana, ["no_such_field"])
