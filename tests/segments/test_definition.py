import pytest
from django.core.exceptions import ValidationError

from rallypoint.segments.definition import definition_clean
from rallypoint.segments.services import segment_create, segment_update


def problems(raw, **kwargs):
    with pytest.raises(ValidationError) as info:
        definition_clean(raw, **kwargs)
    return info.value.messages


@pytest.mark.django_db
def test_definition_clean_normalises_a_good_definition():
    got = definition_clean(
        {"conditions": [{"type": "near", "postal_code": "80202", "radius": "25"}]}
    )
    assert got == {
        "match": "all",
        "conditions": [
            {
                "type": "near",
                "postal_code": "80202",
                "lat": 39.7491,
                "lng": -104.9946,
                "radius": 25.0,
                "unit": "mi",
            }
        ],
        "exclude_segments": [],
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([], ["A segment definition is a JSON object."]),
        ({"match": "some"}, ["Match must be all or any."]),
        ({"conditions": [{"type": "zodiac"}]}, ["Unknown condition: {'type': 'zodiac'}."]),
        (
            {"conditions": [{"type": "tags", "tags": [999]}]},
            ["Tags: one of the chosen tags no longer exists."],
        ),
        (
            {"conditions": [{"type": "near", "postal_code": "00000", "radius": 5}]},
            ["Distance: 00000 isn't a US ZIP code we know."],
        ),
        (
            {"conditions": [{"type": "near", "lat": 10, "lng": 10, "radius": 0}]},
            ["Distance: give a radius above 0 and up to 5,000 km (3,100 miles)."],
        ),
        (
            {"conditions": [{"type": "created", "after": "2024-13-01"}]},
            [
                "Joined after: use a date like 2024-05-31.",
                "Joined: give a start date, an end date or both.",
            ],
        ),
        (
            {"conditions": [{"type": "activity", "kind": "fly"}]},
            ["Activity: choose what they did."],
        ),
        ({"exclude_segments": [12345]}, ["One of the chosen segments no longer exists."]),
    ],
)
def test_definition_clean_explains_each_problem(raw, expected):
    assert problems(raw) == expected


@pytest.mark.django_db
def test_definition_clean_refuses_a_loop_through_another_segment(organizer):
    a = segment_create(name="A", definition={}, actor=organizer)
    b = segment_create(
        name="B",
        definition={"conditions": [{"type": "segments", "segments": [a.pk]}]},
        actor=organizer,
    )
    with pytest.raises(ValidationError) as info:
        segment_update(segment=a, definition={"exclude_segments": [b.pk]}, actor=organizer)
    assert info.value.messages == [
        "A segment can't include or exclude itself, even through another one."
    ]
    a.refresh_from_db()
    assert a.definition == {"match": "all", "conditions": [], "exclude_segments": []}
