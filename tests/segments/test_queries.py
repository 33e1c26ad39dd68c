import pytest

from rallypoint.segments.definition import definition_clean
from rallypoint.segments.models import Segment
from rallypoint.segments.queries import definition_people, segment_people
from rallypoint.segments.services import segment_create


def members(world, *conditions, match="all", exclude=()):
    definition = definition_clean(
        {"match": match, "conditions": list(conditions), "exclude_segments": list(exclude)}
    )
    return world.names(definition_people(definition))


def tag_ids(world, *names):
    return [world.tags[n].pk for n in names]


def test_segment_without_conditions_is_everyone(world):
    assert members(world) == ["ana", "ben", "cy", "dee", "eve"]


@pytest.mark.parametrize(
    ("mode", "tags", "expected"),
    [
        ("any", ["volunteer", "donor"], ["ana", "ben", "cy"]),
        ("all", ["volunteer", "host"], ["ana"]),
        ("none", ["volunteer"], ["cy", "dee", "eve"]),
    ],
)
def test_segment_tags(world, mode, tags, expected):
    condition = {"type": "tags", "mode": mode, "tags": tag_ids(world, *tags)}
    assert members(world, condition) == expected


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["subscribed"], ["ana", "eve"]),
        (["unsubscribed", "bouncing"], ["ben", "dee"]),
        (["none"], ["cy"]),
        (["subscribed", "none"], ["ana", "cy", "eve"]),
    ],
)
def test_segment_email_status(world, statuses, expected):
    assert members(world, {"type": "email_status", "statuses": statuses}) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"has_phone": True}, ["ana", "cy"]),
        ({"has_phone": False}, ["ben", "dee", "eve"]),
        ({"sms_consent": True}, ["ana"]),
    ],
)
def test_segment_phone(world, condition, expected):
    assert members(world, {"type": "phone", **condition}) == expected


@pytest.mark.parametrize(
    ("place", "expected"),
    [
        ({"postal_codes": ["80202"]}, ["ana"]),
        ({"postal_codes": ["80*"]}, ["ana", "ben", "cy"]),
        ({"regions": ["co"]}, ["ana", "ben", "cy"]),
        ({"countries": ["US"], "regions": ["NY"]}, ["dee"]),
    ],
)
def test_segment_place(world, place, expected):
    assert members(world, {"type": "place", **place}) == expected


@pytest.mark.parametrize(
    ("radius", "unit", "expected"),
    [
        (10, "mi", ["ana"]),
        (20, "mi", ["ana"]),  # Boulder is inside the 20-mile box but 24.1 miles away
        (25, "mi", ["ana", "ben"]),  # Boulder is 24.1 miles from 80202
        (100, "km", ["ana", "ben"]),  # Colorado Springs is 102 km away
        (65, "mi", ["ana", "ben", "cy"]),
    ],
)
def test_segment_near_postal_code_with_real_zip_codes(world, radius, unit, expected):
    condition = {"type": "near", "postal_code": "80202", "radius": radius, "unit": unit}
    assert members(world, condition) == expected


def test_segment_near_a_point(world):
    times_square = {"type": "near", "lat": 40.758, "lng": -73.9855, "radius": 5, "unit": "km"}
    assert members(world, times_square) == ["dee"]


def test_segment_created_between(world):
    condition = {"type": "created", "after": "2024-01-10", "before": "2024-02-01"}
    assert members(world, condition) == ["ana", "ben"]


def test_segment_source_ignores_case(world):
    assert members(world, {"type": "source", "sources": ["join page"]}) == ["ana", "ben"]


def test_segment_custom_field(world):
    assert members(world, {"type": "custom_field", "key": "team", "value": "north"}) == ["ana"]
    assert members(world, {"type": "custom_field", "key": "team", "value": ""}) == ["ana", "dee"]


def test_segment_activity(world):
    clean_air = world.campaigns["clean-air"].pk
    vote = world.campaigns["vote"].pk
    sign = {"type": "activity", "kind": "sign"}
    assert members(world, sign) == ["ana"]
    assert members(world, {**sign, "campaign": clean_air}) == ["ana"]
    assert members(world, {**sign, "campaign": vote}) == []
    assert members(world, {**sign, "since": "2024-03-02"}) == []
    assert members(world, {**sign, "did": False}) == ["ben", "cy", "dee", "eve"]


def test_segment_match_any(world):
    phone = {"type": "phone", "has_phone": True}
    subscribed = {"type": "email_status", "statuses": ["subscribed"]}
    assert members(world, phone, subscribed) == ["ana"]
    assert members(world, phone, subscribed, match="any") == ["ana", "cy", "eve"]


def test_segment_includes_and_excludes_other_segments(world, organizer):
    colorado = segment_create(
        name="Colorado",
        definition={"conditions": [{"type": "place", "regions": ["CO"]}]},
        actor=organizer,
    )
    texters = segment_create(
        name="Texters",
        definition={"conditions": [{"type": "phone", "sms_consent": True}]},
        actor=organizer,
    )
    assert members(world, {"type": "segments", "segments": [colorado.pk]}) == ["ana", "ben", "cy"]
    in_colorado = {"type": "segments", "segments": [colorado.pk]}
    assert members(world, in_colorado, exclude=[texters.pk]) == ["ben", "cy"]


def test_segment_people_survives_a_loop_written_around_validation(world):
    a = Segment.objects.create(name="A", slug="a")
    b = Segment.objects.create(name="B", slug="b")
    a.definition = {"match": "all", "conditions": [{"type": "segments", "segments": [b.pk]}]}
    b.definition = {"match": "all", "conditions": [{"type": "segments", "segments": [a.pk]}]}
    a.save()
    b.save()
    assert world.names(segment_people(a)) == []


def test_segment_count_of_the_benchmark_shape(world):
    """Tag X, within 25 miles of a ZIP code, subscribed — what bench/segment_count.py times."""
    conditions = [
        {"type": "tags", "mode": "any", "tags": tag_ids(world, "volunteer")},
        {"type": "near", "postal_code": "80202", "radius": 25, "unit": "mi"},
        {"type": "email_status", "statuses": ["subscribed"]},
    ]
    assert members(world, *conditions) == ["ana"]
