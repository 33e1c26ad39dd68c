"""Shifts and answers in the OSDI documents and the record attendance helper (the events
tool's side of the API: the same RSVP write as the event page)."""

import pytest

from rallypoint.api.services import apikey_create
from rallypoint.events.models import Rsvp
from tests.api.conftest import Api
from tests.events.factories import EventFactory, EventQuestionFactory, ShiftFactory
from tests.factories import OrganizerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client):
    _, raw = apikey_create(name="CRM", scope="read-write", actor=OrganizerFactory())
    return Api(client, raw)


def body(email, **extra):
    return {"person": {"email_addresses": [{"address": email}]}, **extra}


def test_event_document_lists_shifts_and_questions_to_answer(api):
    event = EventFactory()
    shift = ShiftFactory(event=event, capacity=4)
    question = EventQuestionFactory(event=event, kind="choice", choices=["Yes", "No"])
    document = api.get(f"events/{event.uuid}").json()
    assert document["rallypoint:shifts"] == [
        {
            "id": shift.pk,
            "start_date": shift.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end_date": shift.ends_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "capacity": 4,
            "total_accepted": 0,
            "waitlist": True,
        }
    ]
    assert document["rallypoint:questions"] == [
        {
            "id": question.pk,
            "label": question.label,
            "kind": "choice",
            "required": False,
            "choices": ["Yes", "No"],
        }
    ]


def test_record_attendance_helper_picks_shifts_and_answers(api):
    event = EventFactory()
    shift = ShiftFactory(event=event, capacity=4)
    question = EventQuestionFactory(event=event, kind="choice", choices=["Yes", "No"])
    response = api.post(
        f"events/{event.uuid}/attendances",
        body(
            "ana@example.org",
            **{"rallypoint:shifts": [shift.pk], "rallypoint:answers": {str(question.pk): "Yes"}},
        ),
    )
    assert response.status_code == 201, response.content
    document = response.json()
    assert document["rallypoint:shifts"] == [{"id": shift.pk, "status": "accepted"}]
    assert document["rallypoint:answers"] == {str(question.pk): "Yes"}


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({}, "rallypoint:shifts"),
        ({"rallypoint:shifts": "1"}, "rallypoint:shifts"),
        ({"rallypoint:shifts": ["1"]}, "rallypoint:shifts[0]"),
        ({"rallypoint:shifts": [True]}, "rallypoint:shifts[0]"),
        ({"rallypoint:shifts": [999999]}, "rallypoint:shifts"),
        ({"rallypoint:answers": ["Yes"]}, "rallypoint:answers"),
    ],
)
def test_record_attendance_helper_bad_shifts_or_answers_are_a_clear_400(api, extra, field):
    event = EventFactory()
    ShiftFactory(event=event)
    response = api.post(f"events/{event.uuid}/attendances", body("ana@example.org", **extra))
    assert response.status_code == 400
    assert field in response.content.decode()
    assert Rsvp.objects.count() == 0


def test_record_attendance_helper_bad_answer_names_the_question(api):
    event = EventFactory()
    question = EventQuestionFactory(event=event, kind="choice", choices=["Yes", "No"])
    response = api.post(
        f"events/{event.uuid}/attendances",
        body("ana@example.org", **{"rallypoint:answers": {f"q_{question.pk}": "Maybe"}}),
    )
    assert response.status_code == 400
    assert f"rallypoint:answers.q_{question.pk}" in response.content.decode()
    assert "Pick one of the choices listed." in response.content.decode()
