"""The people list: sortable columns and bulk actions (tag, untag, add to a segment, export)."""

import pytest
from django.urls import reverse

from rallypoint.people.models import Tagging
from rallypoint.segments.models import Segment
from rallypoint.segments.queries import segment_people
from rallypoint.segments.services import segment_create
from tests.factories import PersonFactory, TagFactory, TaggingFactory

pytestmark = pytest.mark.django_db
BULK = reverse("core:people_bulk")


def test_people_list_sorts_by_name_both_ways_and_says_how(organizer_client):
    PersonFactory(given_name="Zoe", family_name="Young")
    PersonFactory(given_name="Al", family_name="Adams")
    page = organizer_client.get("/people/?sort=name").content.decode()
    assert page.index("Adams") < page.index("Young")
    assert 'aria-sort="ascending"><a href="?sort=-name"' in page
    page = organizer_client.get("/people/?sort=-name").content.decode()
    assert page.index("Young") < page.index("Adams")
    assert organizer_client.get("/people/?sort=nonsense").status_code == 200


def test_bulk_tag_and_untag_the_ticked_people(organizer_client):
    a, b, c = PersonFactory.create_batch(3)
    response = organizer_client.post(
        BULK, {"action": "tag", "tag": "volunteer", "ids": [a.pk, b.pk]}, follow=True
    )
    assert "Tagged 2 people “volunteer”." in response.content.decode()
    assert set(Tagging.objects.values_list("person_id", flat=True)) == {a.pk, b.pk}
    again = organizer_client.post(BULK, {"action": "tag", "tag": "Volunteer", "ids": [a.pk, c.pk]})
    assert again.status_code == 302
    assert Tagging.objects.count() == 3
    organizer_client.post(BULK, {"action": "untag", "tag": "volunteer", "ids": [a.pk]})
    assert set(Tagging.objects.values_list("person_id", flat=True)) == {b.pk, c.pk}


def test_bulk_with_nothing_ticked_or_no_tag_says_so_and_changes_nothing(organizer_client):
    person = PersonFactory()
    page = organizer_client.post(BULK, {"action": "tag", "tag": "x"}, follow=True)
    assert "Tick the people first" in page.content.decode()
    page = organizer_client.post(BULK, {"action": "tag", "ids": [person.pk]}, follow=True)
    assert "Type the tag to add or remove." in page.content.decode()
    page = organizer_client.post(BULK, {"action": "untag", "tag": "nope", "ids": [person.pk]})
    assert page.status_code == 302
    assert organizer_client.post(BULK, {"action": "x", "ids": ["abc"]}).status_code == 302
    assert not Tagging.objects.exists()


def test_bulk_applies_to_everyone_the_search_matches(organizer_client):
    tag = TagFactory(name="donor")
    donors = PersonFactory.create_batch(3)
    for person in donors:
        TaggingFactory(person=person, tag=tag)
    PersonFactory()
    organizer_client.post(
        BULK, {"action": "tag", "tag": "thank", "scope": "all", "search_tag": "donor"}
    )
    thanked = Tagging.objects.filter(tag__name="thank").values_list("person_id", flat=True)
    assert set(thanked) == {p.pk for p in donors}


def test_bulk_add_to_a_new_segment_then_to_it_again(organizer_client):
    a, b = PersonFactory.create_batch(2)
    ask = organizer_client.post(BULK, {"action": "segment", "ids": [a.pk]})
    assert ask.status_code == 200
    assert "Add 1 person to a segment" in ask.content.decode()
    made = organizer_client.post(
        BULK, {"action": "segment_save", "segment": "new", "name": "Leads", "ids": [a.pk]}
    )
    segment = Segment.objects.get(name="Leads")
    assert made["Location"] == reverse("segments:detail", args=[segment.slug])
    organizer_client.post(
        BULK, {"action": "segment_save", "segment": segment.slug, "ids": [a.pk, b.pk]}
    )
    segment.refresh_from_db()
    assert set(segment_people(segment)) == {a, b}


def test_bulk_add_to_a_segment_that_needs_every_condition_explains(organizer_client):
    person = PersonFactory()
    strict = segment_create(
        name="Strict",
        definition={"match": "all", "conditions": [{"type": "created", "after": "2000-01-01"}]},
        actor=None,
    )
    response = organizer_client.post(
        BULK, {"action": "segment_save", "segment": strict.slug, "ids": [person.pk]}
    )
    assert response.status_code == 400
    assert "every one of its conditions" in response.content.decode()


def test_bulk_export_of_the_selection(organizer_client):
    a, b = PersonFactory.create_batch(2)
    response = organizer_client.post(BULK, {"action": "export", "ids": [a.pk]})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    assert len(body.strip().splitlines()) == 2
    assert a.given_name in body
