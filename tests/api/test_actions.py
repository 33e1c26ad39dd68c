import pytest

from rallypoint.actions.models import Action, Submission
from rallypoint.actions.services import action_create, submission_record
from rallypoint.ledger.models import Activity, Recruitment
from rallypoint.people.models import Person
from rallypoint.people.services import PersonData
from tests.factories import EmailAddressFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def petition(organizer):
    return action_create(
        actor=organizer,
        title="Fund the library",
        kind="petition",
        status="live",
        petition_text="Keep it open.",
        targets=[{"name": "City Council"}],
    )


@pytest.fixture
def form(organizer):
    return action_create(actor=organizer, title="Volunteer", kind="form", status="live")


def sign(action, n):
    return submission_record(
        action=action, person_data=PersonData(email=f"s{n}@example.org"), send_email=False
    ).submission


def test_petitions_list_shape(api, petition):
    sign(petition, 1)
    body = api.get("petitions").json()
    assert body["total_records"] == 1
    item = body["_embedded"]["osdi:petitions"][0]
    assert item["title"] == "Fund the library"
    assert item["petition_text"] == "Keep it open."
    assert item["target"] == [{"name": "City Council"}]
    assert item["total_signatures"] == 1
    assert item["browser_url"] == "http://127.0.0.1:8000/act/fund-the-library/"
    assert item["_links"]["osdi:signatures"]["href"] == (
        f"http://testserver/api/v1/petitions/{petition.uuid}/signatures"
    )


def test_petitions_list_query_count_is_flat(api, organizer, petition, django_assert_num_queries):
    api.get("people")
    with django_assert_num_queries(3):
        assert api.get("petitions").json()["total_records"] == 1
    for n in range(2):
        action_create(actor=organizer, title=f"P{n}", kind="petition", status="live")
    with django_assert_num_queries(3):
        assert api.get("petitions").json()["total_records"] == 3


def test_forms_are_not_petitions(api, petition, form):
    assert [p["title"] for p in api.get("petitions").json()["_embedded"]["osdi:petitions"]] == [
        "Fund the library"
    ]
    assert [f["title"] for f in api.get("forms").json()["_embedded"]["osdi:forms"]] == ["Volunteer"]
    assert api.get(f"forms/{petition.uuid}").status_code == 404


def test_petition_create_and_update(api):
    created = api.post(
        "petitions",
        {
            "title": "Safe streets",
            "description": "<p>Slow down</p><script>x</script>",
            "petition_text": "We ask for 20 mph.",
            "target": [{"name": "Mayor"}],
        },
    )
    assert created.status_code == 201
    action = Action.objects.get()
    assert (action.kind, action.status, action.targets) == ("petition", "live", [{"name": "Mayor"}])
    assert action.description == "<p>Slow down</p>"
    assert created.json()["created_date"] == created.json()["modified_date"]
    updated = api.put(f"petitions/{action.uuid}", {"title": "Safer streets"})
    assert updated.status_code == 200
    assert updated.json()["title"] == "Safer streets"


@pytest.mark.parametrize(
    "body, field",
    [({}, "title"), ({"title": ""}, "title"), ({"title": "x", "target": [3]}, "target[0]")],
)
def test_petition_create_bad_input_is_400(api, body, field):
    response = api.post("petitions", body)
    assert response.status_code == 400
    assert response.json()["osdi:error"]["errors"][0]["field"] == field
    assert Action.objects.count() == 0


def test_record_signature_helper_records_act_with_referrer(api, petition):
    recruiter = PersonFactory()
    response = api.post(
        f"petitions/{petition.uuid}/signatures/",
        {
            "person": {"email_addresses": [{"address": "new@example.org"}]},
            "comments": "Yes!",
            "add_tags": ["signer"],
            "action_network:referrer_data": {
                "referrer": recruiter.share_code,
                "source": "facebook",
                "website": "example.org",
            },
        },
    )
    assert response.status_code == 201
    person = Person.objects.get(email_addresses__address="new@example.org")
    submission = Submission.objects.get()
    assert (submission.person, submission.comment, submission.source) == (person, "Yes!", "api")
    act = Activity.objects.get(kind="sign")
    assert (act.person, act.referrer, act.channel) == (person, recruiter, "facebook")
    assert Recruitment.objects.get().recruiter == recruiter
    assert list(person.taggings.values_list("tag__name", flat=True)) == ["signer"]
    body = response.json()
    assert body["referrer_data"] == {"referrer": recruiter.share_code, "source": "facebook"}
    assert body["_links"]["osdi:person"]["href"] == f"http://testserver/api/v1/people/{person.uuid}"
    assert body["_links"]["osdi:petition"]["href"] == (
        f"http://testserver/api/v1/petitions/{petition.uuid}"
    )


def test_record_signature_twice_counts_once(api, petition):
    body = {"person": {"email_addresses": [{"address": "a@example.org"}]}}
    assert api.post(f"petitions/{petition.uuid}/signatures", body).status_code == 201
    assert api.post(f"petitions/{petition.uuid}/signatures", body).status_code == 200
    assert Submission.objects.count() == 1
    assert Activity.objects.filter(kind="sign").count() == 1


def test_record_signature_for_linked_person(api, petition):
    person = PersonFactory()
    EmailAddressFactory(person=person, address="known@example.org")
    href = f"https://actionnetwork.org/api/v2/people/{person.uuid}"
    response = api.post(
        f"petitions/{petition.uuid}/signatures", {"_links": {"osdi:person": {"href": href}}}
    )
    assert response.status_code == 201
    assert Submission.objects.get().person == person
    assert Person.objects.count() == 1


def test_record_signature_keyless_answers_empty(anon_api, petition):
    response = anon_api.post(
        f"petitions/{petition.uuid}/signatures",
        {"person": {"email_addresses": [{"address": "a@example.org"}]}},
    )
    assert (response.status_code, response.json()) == (200, {})
    assert Submission.objects.get().source == "embed"


def test_record_signature_on_closed_petition_is_400_and_changes_nothing(api, organizer):
    closed = action_create(actor=organizer, title="Old", kind="petition", status="closed")
    response = api.post(
        f"petitions/{closed.uuid}/signatures",
        {"person": {"email_addresses": [{"address": "a@example.org"}]}},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "This petition is closed to new names."
    assert Person.objects.count() == 0
    assert Submission.objects.count() == 0


def test_signatures_list_get_and_person_signatures(api, petition, django_assert_num_queries):
    first = sign(petition, 1)
    api.get("people")
    path = f"petitions/{petition.uuid}/signatures"
    with django_assert_num_queries(4):  # key, petition, count, page with people joined
        body = api.get(path).json()
    assert [s["identifiers"][0] for s in body["_embedded"]["osdi:signatures"]] == [
        f"rallypoint:signature-{first.pk}"
    ]
    sign(petition, 2), sign(petition, 3)
    with django_assert_num_queries(4):
        assert api.get(path).json()["total_records"] == 3
    one = api.get(f"{path}/{first.pk}").json()
    assert one["_links"]["self"]["href"] == f"http://testserver/api/v1/{path}/{first.pk}"
    assert api.get(f"{path}/rallypoint:signature-{first.pk}").status_code == 200
    assert api.get(f"{path}/nope").status_code == 404
    mine = api.get(f"people/{first.person.uuid}/signatures").json()
    assert mine["total_records"] == 1


def test_submission_helper_for_forms(api, form):
    response = api.post(
        f"forms/{form.uuid}/submissions",
        {"person": {"email_addresses": [{"address": "a@example.org"}]}},
    )
    assert response.status_code == 201
    assert Activity.objects.get().kind == "submit"
    assert api.get(f"forms/{form.uuid}").json()["total_submissions"] == 1
