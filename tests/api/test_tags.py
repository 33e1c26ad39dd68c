import pytest

from rallypoint.people.models import Tag, Tagging
from tests.factories import PersonFactory, TagFactory, TaggingFactory

pytestmark = pytest.mark.django_db


def test_tags_list_shape_and_links(api):
    tag = TagFactory(name="volunteer")
    body = api.get("tags").json()
    assert body["total_records"] == 1
    item = body["_embedded"]["osdi:tags"][0]
    assert item["name"] == "volunteer"
    assert item["identifiers"][0] == f"rallypoint:{tag.uuid}"
    assert item["_links"]["self"]["href"] == f"http://testserver/api/v1/tags/{tag.uuid}"
    assert item["_links"]["osdi:taggings"]["href"] == (
        f"http://testserver/api/v1/tags/{tag.uuid}/taggings"
    )
    assert body["_links"]["osdi:tags"] == [{"href": f"http://testserver/api/v1/tags/{tag.uuid}"}]


def test_tags_list_query_count_is_flat(api, django_assert_num_queries):
    TagFactory()
    api.get("people")
    with django_assert_num_queries(3):
        assert api.get("tags").json()["total_records"] == 1
    TagFactory(), TagFactory()
    with django_assert_num_queries(3):
        assert api.get("tags").json()["total_records"] == 3


def test_tags_filter_by_name(api):
    TagFactory(name="volunteer")
    TagFactory(name="donor")
    body = api.get("tags", {"filter": "name eq 'DONOR'"}).json()
    assert [t["name"] for t in body["_embedded"]["osdi:tags"]] == ["donor"]


def test_tag_create_then_existing_name_answers_200(api):
    created = api.post("tags/", {"name": "Phone bank"})
    assert created.status_code == 201
    assert created.json()["created_date"] == created.json()["modified_date"]
    again = api.post("tags", {"name": "phone bank"})
    assert again.status_code == 200
    assert again.json()["identifiers"] == created.json()["identifiers"]
    assert list(Tag.objects.values_list("name", flat=True)) == ["Phone bank"]


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": ["x"]}, {"name": "x" * 101}])
def test_tag_create_bad_name_is_400(api, body):
    response = api.post("tags", body)
    assert response.status_code == 400
    assert response.json()["osdi:error"]["errors"][0]["field"] == "name"
    assert Tag.objects.count() == 0


def test_tagging_create_list_delete(api):
    tag = TagFactory(name="volunteer")
    person = PersonFactory()
    href = f"https://actionnetwork.org/api/v2/people/{person.uuid}"
    created = api.post(f"tags/{tag.uuid}/taggings", {"_links": {"osdi:person": {"href": href}}})
    assert created.status_code == 201
    tagging = Tagging.objects.get()
    links = created.json()["_links"]
    assert links["self"]["href"] == (
        f"http://testserver/api/v1/tags/{tag.uuid}/taggings/{tagging.uuid}"
    )
    assert links["osdi:person"]["href"] == f"http://testserver/api/v1/people/{person.uuid}"
    assert links["osdi:tag"]["href"] == f"http://testserver/api/v1/tags/{tag.uuid}"
    again = api.post(f"tags/{tag.uuid}/taggings/", {"_links": {"osdi:person": {"href": href}}})
    assert again.status_code == 200
    assert Tagging.objects.count() == 1
    listed = api.get(f"tags/{tag.uuid}/taggings").json()
    assert [t["identifiers"][0] for t in listed["_embedded"]["osdi:taggings"]] == [
        f"rallypoint:{tagging.uuid}"
    ]
    by_person = api.get(f"people/{person.uuid}/taggings").json()
    assert by_person["total_records"] == 1
    assert api.get(f"tags/{tag.uuid}/taggings/{tagging.uuid}").status_code == 200
    deleted = api.delete(f"tags/{tag.uuid}/taggings/{tagging.uuid}")
    assert deleted.status_code == 204
    assert Tagging.objects.count() == 0
    assert api.delete(f"tags/{tag.uuid}/taggings/{tagging.uuid}").status_code == 404


def test_taggings_list_query_count_is_flat(api, django_assert_num_queries):
    tag = TagFactory()
    TaggingFactory(tag=tag)
    api.get("people")
    with django_assert_num_queries(4):  # key, tag, count, page (person and tag joined)
        assert api.get(f"tags/{tag.uuid}/taggings").json()["total_records"] == 1
    TaggingFactory(tag=tag), TaggingFactory(tag=tag)
    with django_assert_num_queries(4):
        assert api.get(f"tags/{tag.uuid}/taggings").json()["total_records"] == 3


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({}, 400, "_links.osdi:person"),
        ({"_links": {"osdi:person": "x"}}, 400, "_links.osdi:person"),
        (
            {"_links": {"osdi:person": {"href": "https://x/people/nope"}}},
            400,
            "_links.osdi:person.href",
        ),
        ({"_links": []}, 400, "_links"),
    ],
)
def test_tagging_bad_link_is_400(api, body, status, field):
    tag = TagFactory()
    response = api.post(f"tags/{tag.uuid}/taggings", body)
    assert response.status_code == status
    assert response.json()["osdi:error"]["errors"][0]["field"] == field
    assert Tagging.objects.count() == 0


def test_tagging_unknown_person_is_404(api):
    tag = TagFactory()
    href = "https://x/api/v1/people/00000000-0000-0000-0000-000000000000"
    response = api.post(f"tags/{tag.uuid}/taggings", {"_links": {"osdi:person": {"href": href}}})
    assert response.status_code == 404
    assert Tagging.objects.count() == 0
