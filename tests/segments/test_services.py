import pytest
from django.core.exceptions import ValidationError

from rallypoint.core.models import AuditEntry
from rallypoint.segments.models import Segment
from rallypoint.segments.services import segment_create, segment_delete, segment_update
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_segment_create_audits_and_slugs(organizer):
    segment = segment_create(name="New", definition={}, actor=organizer)
    assert segment.slug == "new-segment"  # /segments/new/ is the builder
    assert list(AuditEntry.objects.values_list("action", "actor")) == [
        ("segment.created", organizer.pk)
    ]


def test_segment_create_refuses_same_name_in_other_case(organizer):
    segment_create(name="Volunteers", definition={}, actor=organizer)
    with pytest.raises(ValidationError) as info:
        segment_create(name="volunteers", definition={}, actor=organizer)
    assert info.value.message_dict == {"name": ["There is already a segment with this name."]}
    assert Segment.objects.count() == 1


def test_segment_update_keeps_before_and_after(organizer):
    segment = segment_create(name="Texters", definition={}, actor=organizer)
    segment_update(
        segment=segment,
        name="SMS",
        definition={"conditions": [{"type": "phone", "sms_consent": True}]},
        actor=organizer,
    )
    entry = AuditEntry.objects.get(action="segment.updated")
    assert entry.data["before"]["name"] == "Texters"
    assert entry.data["after"]["definition"]["conditions"] == [
        {"type": "phone", "has_phone": None, "sms_consent": True}
    ]


def test_segment_delete_refused_while_another_uses_it(organizer):
    base = segment_create(name="Base", definition={}, actor=organizer)
    segment_create(name="User", definition={"exclude_segments": [base.pk]}, actor=organizer)
    with pytest.raises(ValidationError) as info:
        segment_delete(segment=base, actor=organizer)
    assert info.value.messages == ["Other segments use this one (User): change them first."]
    assert Segment.objects.count() == 2


def test_segment_from_people_holds_exactly_them_and_says_so():
    from rallypoint.segments.queries import definition_summary, segment_people
    from rallypoint.segments.services import segment_from_people

    people = PersonFactory.create_batch(3)
    segment = segment_from_people(name="Asked", person_ids=[p.pk for p in people[:2]], actor=None)
    assert set(segment_people(segment)) == set(people[:2])
    assert definition_summary(segment.definition) == ["Picked by hand: 2 people"]


def test_segment_people_add_extends_a_picked_or_any_segment_and_refuses_an_all_segment():
    from rallypoint.segments.queries import segment_people
    from rallypoint.segments.services import segment_from_people, segment_people_add

    a, b, c = PersonFactory.create_batch(3)
    picked = segment_from_people(name="Picked", person_ids=[a.pk], actor=None)
    assert segment_people_add(segment=picked, person_ids=[a.pk, b.pk], actor=None) == 1
    assert set(segment_people(picked)) == {a, b}
    strict = segment_create(
        name="Strict",
        definition={"match": "all", "conditions": [{"type": "created", "after": "2000-01-01"}]},
        actor=None,
    )
    with pytest.raises(ValidationError, match="every one of its conditions"):
        segment_people_add(segment=strict, person_ids=[c.pk], actor=None)


def test_picked_people_are_capped_with_a_clear_message():
    from rallypoint.segments.definition import MAX_PICKED, definition_clean

    with pytest.raises(ValidationError, match="at most"):
        definition_clean(
            {
                "match": "any",
                "conditions": [{"type": "people", "people": list(range(1, MAX_PICKED + 2))}],
            }
        )
