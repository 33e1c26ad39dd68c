import pytest

from rallypoint.segments.services import segment_create
from tests.factories import PersonFactory, TagFactory, TaggingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def volunteers(organizer):
    tag = TagFactory(name="volunteer")
    segment = segment_create(
        name="Volunteers",
        definition={
            "match": "all",
            "conditions": [{"type": "tags", "mode": "any", "tags": [tag.pk]}],
        },
        actor=organizer,
    )
    segment.tag = tag
    return segment


def test_lists_and_items(api, volunteers):
    members = [TaggingFactory(tag=volunteers.tag).person for _ in range(3)]
    PersonFactory()  # not in the list
    body = api.get("lists").json()
    assert [item["name"] for item in body["_embedded"]["osdi:lists"]] == ["Volunteers"]
    one = api.get(f"lists/{volunteers.uuid}").json()
    assert one["total_items"] == 3
    items = api.get(f"lists/{volunteers.uuid}/items", {"per_page": 2}).json()
    assert items["total_records"] == 3
    assert items["total_pages"] == 2
    assert [i["_links"]["osdi:person"]["href"] for i in items["_embedded"]["osdi:items"]] == [
        f"http://testserver/api/v1/people/{p.uuid}" for p in members[:2]
    ]
    item = api.get(f"lists/{volunteers.uuid}/items/{members[0].uuid}").json()
    assert item["item_type"] == "osdi:person"
    outsider = PersonFactory()
    assert api.get(f"lists/{volunteers.uuid}/items/{outsider.uuid}").status_code == 404


def test_lists_are_read_only(api, volunteers):
    assert api.post("lists", {"name": "x"}).status_code == 405
    assert api.put(f"lists/{volunteers.uuid}", {"name": "x"}).status_code == 405
    volunteers.refresh_from_db()
    assert volunteers.name == "Volunteers"


def test_list_items_query_count_is_flat(api, volunteers, django_assert_num_queries):
    TaggingFactory(tag=volunteers.tag)
    api.get("people")
    path = f"lists/{volunteers.uuid}/items"
    with django_assert_num_queries(4):  # key, list, count, page
        assert api.get(path).json()["total_records"] == 1
    TaggingFactory(tag=volunteers.tag), TaggingFactory(tag=volunteers.tag)
    with django_assert_num_queries(4):
        assert api.get(path).json()["total_records"] == 3


def test_lists_query_count_is_flat(api, organizer, volunteers, django_assert_num_queries):
    api.get("people")
    with django_assert_num_queries(3):
        assert api.get("lists").json()["total_records"] == 1
    for name in ("A", "B"):
        segment_create(name=name, definition={"match": "all", "conditions": []}, actor=organizer)
    with django_assert_num_queries(3):
        assert api.get("lists").json()["total_records"] == 3
