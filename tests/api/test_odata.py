import contextlib
from datetime import UTC, datetime

import pytest
from django.db.models import Q
from hypothesis import given, settings
from hypothesis import strategies as st

from rallypoint.api.odata import (
    BoolOp,
    Comparison,
    FilterError,
    date_field,
    filter_q,
    parse,
    string_field,
)

FIELDS = {f.name: f for f in [string_field("region", "region"), date_field("modified_date", "m")]}


def test_parse_single_comparison():
    assert parse("modified_date gt '2014-03-25'") == Comparison("modified_date", "gt", "2014-03-25")


def test_parse_and_binds_tighter_than_or():
    assert parse("a eq '1' or b eq '2' and c eq '3'") == BoolOp(
        "or",
        (
            Comparison("a", "eq", "1"),
            BoolOp("and", (Comparison("b", "eq", "2"), Comparison("c", "eq", "3"))),
        ),
    )


def test_parse_parentheses_group():
    assert parse("(a eq '1' or b eq '2') and c eq 3") == BoolOp(
        "and",
        (
            BoolOp("or", (Comparison("a", "eq", "1"), Comparison("b", "eq", "2"))),
            Comparison("c", "eq", 3),
        ),
    )


def test_parse_keywords_are_case_insensitive_and_quotes_escape():
    assert parse("Region EQ 'O''Brien' OR region Ne null") == BoolOp(
        "or", (Comparison("region", "eq", "O'Brien"), Comparison("region", "ne", None))
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "The filter is empty."),
        (
            "region",
            "Expected an operator (eq, ne, gt, ge, lt, le) after 'region' at position 7, "
            "found the end of the filter.",
        ),
        (
            "region like 'x'",
            "Expected an operator (eq, ne, gt, ge, lt, le) after 'region' at position 8, "
            "found 'like'.",
        ),
        (
            "region eq CO",
            "Expected a value in single quotes after 'region eq' at position 11, found 'CO'.",
        ),
        (
            "region eq 'CO' region eq 'NY'",
            "Expected 'and', 'or' or the end of the filter at position 16, found 'region'.",
        ),
        ("eq eq 'x'", "Expected a field name at position 1, found 'eq'."),
        (
            "region eq 'CO' and",
            "Expected a field name at position 19, found the end of the filter.",
        ),
        ("region eq $x", "Unexpected '$' at position 11."),
        ("(" * 30 + "region eq 'x'" + ")" * 30, "Too many nested parentheses (at most 20)."),
        ("x" * 2001, "The filter is too long (at most 2000 characters)."),
    ],
)
def test_parse_errors_say_where_and_why(text, message):
    with pytest.raises(FilterError) as info:
        parse(text)
    assert str(info.value) == message


def test_filter_q_builds_case_insensitive_and_date_lookups():
    q = filter_q("region eq 'co' and modified_date ge '2024-01-02T03:04:05Z'", FIELDS)
    assert q == Q(region__iexact="co") & Q(m__gte=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))


def test_filter_q_date_only_equality_means_that_day():
    q = filter_q("modified_date eq '2024-01-02'", FIELDS)
    assert q == Q(m__gte=datetime(2024, 1, 2, tzinfo=UTC), m__lt=datetime(2024, 1, 3, tzinfo=UTC))


def test_filter_q_unknown_field_lists_known_ones():
    with pytest.raises(FilterError, match="Filterable fields here: modified_date, region."):
        filter_q("shoe eq '9'", FIELDS)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="() 'abceglnoqrt_0123456789-:", max_size=60))
def test_parse_never_fails_other_than_with_a_filter_error(text):
    with contextlib.suppress(FilterError):
        filter_q(text, FIELDS)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_parse_any_unicode_only_raises_filter_error(text):
    with contextlib.suppress(FilterError):
        parse(text)
