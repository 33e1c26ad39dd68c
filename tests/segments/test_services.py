import pytest
from django.core.exceptions import ValidationError

from rallypoint.core.models import AuditEntry
from rallypoint.segments.models import Segment
from rallypoint.segments.services import segment_create, segment_delete, segment_update

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
