import pytest
from django.urls import reverse

from rallypoint.segments.models import Segment
from rallypoint.segments.services import segment_create


def builder_data(world, **extra):
    return {
        "name": "Denver volunteers",
        "match": "all",
        "tags_any": [world.tags["volunteer"].pk],
        "near_postal_code": "80202",
        "near_radius": "25",
        "near_unit": "mi",
        **extra,
    }


def test_segment_new_saves_and_shows_members(world, organizer_client):
    response = organizer_client.post(reverse("segments:new"), builder_data(world))
    segment = Segment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("segments:detail", args=[segment.slug])
    assert segment.definition["conditions"][0] == {
        "type": "tags",
        "mode": "any",
        "tags": [world.tags["volunteer"].pk],
    }
    detail = organizer_client.get(response["Location"])
    assert [p.given_name for p in detail.context["page"].object_list] == ["Ben", "Ana"]
    assert detail.context["summary"] == [
        "Every condition:",
        "Tagged with any of: volunteer",
        "Within 25 miles of ZIP 80202",
    ]


def test_segment_preview_partial_counts_live(world, organizer_client):
    response = organizer_client.post(reverse("segments:preview"), builder_data(world))
    assert response.status_code == 200
    assert response.context["preview"]["count"] == 2
    assert b'data-segment-count="2"' in response.content
    assert Segment.objects.count() == 0


def test_segment_preview_button_works_without_javascript(world, organizer_client):
    response = organizer_client.post(reverse("segments:new"), builder_data(world, preview="1"))
    assert response.status_code == 200
    assert response.context["preview"]["count"] == 2
    assert Segment.objects.count() == 0


def test_segment_new_with_unknown_zip_explains_and_saves_nothing(world, organizer_client):
    response = organizer_client.post(
        reverse("segments:new"), builder_data(world, near_postal_code="00000")
    )
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "Distance: 00000 isn't a US ZIP code we know."
    ]
    assert Segment.objects.count() == 0


def test_segment_new_radius_without_place_asks_where(world, organizer_client):
    response = organizer_client.post(
        reverse("segments:new"), builder_data(world, near_postal_code="")
    )
    assert response.status_code == 400
    assert response.context["form"].errors["near_postal_code"] == [
        "Give a ZIP code (or a point) to measure from."
    ]


def test_segment_new_forbidden_for_supporter(world, supporter_client):
    response = supporter_client.post(reverse("segments:new"), builder_data(world))
    assert response.status_code == 403
    assert Segment.objects.count() == 0


def test_segment_edit_shows_stored_conditions(world, organizer, organizer_client):
    segment = segment_create(
        name="Texters",
        definition={"conditions": [{"type": "phone", "sms_consent": True}]},
        actor=organizer,
    )
    response = organizer_client.get(reverse("segments:edit", args=[segment.slug]))
    assert response.context["form"]["phone"].value() == "sms"
    assert response.context["preview"]["count"] == 1


def test_segment_delete_removes_only_the_segment(world, organizer, organizer_client):
    segment = segment_create(name="Gone", definition={}, actor=organizer)
    response = organizer_client.post(reverse("segments:delete", args=[segment.slug]))
    assert response.status_code == 302
    assert Segment.objects.count() == 0
    assert len(world.people) == 5


def test_segment_delete_by_supporter_changes_nothing(world, organizer, supporter_client):
    segment = segment_create(name="Kept", definition={}, actor=organizer)
    assert supporter_client.post(reverse("segments:delete", args=[segment.slug])).status_code == 403
    assert Segment.objects.count() == 1


@pytest.mark.parametrize("count", [1, 3])
def test_segment_list_query_count_does_not_grow(
    db, organizer, organizer_client, django_assert_num_queries, count
):
    for i in range(count):
        segment_create(name=f"Segment {i}", definition={}, actor=organizer)
    with django_assert_num_queries(4):  # session, user, count, page
        response = organizer_client.get(reverse("segments:list"))
    assert len(response.context["page"].object_list) == count


def test_segment_count_partial(world, organizer, organizer_client):
    segment = segment_create(
        name="Colorado",
        definition={"conditions": [{"type": "place", "regions": ["CO"]}]},
        actor=organizer,
    )
    response = organizer_client.get(reverse("segments:count", args=[segment.slug]))
    assert response.content.decode().strip() == "<span>3</span>"


def test_segment_builder_uses_checkable_lists_not_ctrl_click_selects(world, organizer_client):
    page = organizer_client.get(reverse("segments:new")).content.decode()
    assert "<select" not in page.split('name="tags_any"')[0].rsplit("<fieldset", 1)[-1]
    assert 'type="checkbox" name="tags_any"' in page
    assert 'type="checkbox" name="in_segments"' in page or "No other segments yet." in page
    assert 'class="checklist-search"' in page
    assert "Hold Ctrl" not in page
