"""The pages of shifts and RSVP questions: the host form's blocks, the RSVP form, the
dashboard, the check-in list and the attendees' CSV."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from rallypoint.core.models import AuditEntry
from rallypoint.events.models import Event, EventQuestion, Rsvp, Shift, ShiftSignup
from rallypoint.events.services import rsvp_create
from rallypoint.people.services import PersonData
from tests.events.factories import (
    EventFactory,
    EventHostFactory,
    EventQuestionFactory,
    ShiftFactory,
    person_with_email,
)
from tests.events.test_views import create_form, host_client, local_input
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def management(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "50",
    }


def shift_rows(*rows, initial=0):
    data = management("shifts", len(rows), initial)
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"shifts-{i}-{key}"] = value
    return data


def question_rows(*rows, initial=0):
    data = management("questions", len(rows), initial)
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"questions-{i}-{key}"] = value
    return data


def phone_bank(**kwargs):
    """A phone bank 6–8 PM with a shift per hour (2 places, then 1) and two questions."""
    event = EventFactory(title="Phone bank", **kwargs)
    early = ShiftFactory(event=event, capacity=2)
    late = ShiftFactory(event=event, starts_at=early.ends_at, ends_at=event.ends_at, capacity=1)
    language = EventQuestionFactory(
        event=event, kind="choice", label="Calling in", choices=["English", "Spanish"], position=0
    )
    notes = EventQuestionFactory(event=event, kind="text", label="Anything else?", position=1)
    return event, early, late, language, notes


def rsvp_form(**overrides):
    values = {"given_name": "Ana", "email": "ana@example.org", "guests": "0"}
    values.update(overrides)
    return values


# --- the host form -------------------------------------------------------------------------


def test_host_creates_an_event_with_shifts_and_questions_without_javascript(client):
    client.force_login(UserFactory())
    page = client.get("/events/new/").content.decode()
    assert 'name="shifts-0-starts_at"' in page and 'name="questions-0-label"' in page
    body = {
        **create_form(capacity=""),
        **shift_rows(
            {
                "starts_at": local_input(hour=18),
                "ends_at": local_input(hour=19),
                "capacity": "5",
                "waitlist_enabled": "on",
            },
            {"starts_at": "", "ends_at": "", "capacity": ""},  # a blank row: no shift
            {"starts_at": local_input(hour=19), "ends_at": local_input(hour=20)},
        ),
        **question_rows(
            {
                "label": "T-shirt size",
                "kind": "choice",
                "choices_text": "S\nM\nL",
                "required": "on",
            },
            {"label": "", "kind": "text"},
        ),
    }
    response = client.post("/events/new/", body)
    assert response.status_code == 302, response.content.decode()[:3000]
    event = Event.objects.get()
    shifts = list(event.shifts.all())
    assert [
        (s.local_start.hour, s.local_end.hour, s.capacity, s.waitlist_enabled) for s in shifts
    ] == [
        (18, 19, 5, True),
        (19, 20, None, False),
    ]
    assert [(q.label, q.kind, q.choices, q.required) for q in event.questions.all()] == [
        ("T-shirt size", "choice", ["S", "M", "L"], True)
    ]


def test_host_form_shift_rows_are_checked_at_the_edge(client):
    client.force_login(UserFactory())
    body = {
        **create_form(capacity=""),
        **shift_rows(
            {"starts_at": local_input(hour=19), "ends_at": ""},
            {"starts_at": "not a time", "ends_at": local_input(hour=20)},
            {"starts_at": local_input(hour=18), "ends_at": local_input(hour=19), "capacity": "-1"},
        ),
    }
    response = client.post("/events/new/", body)
    assert response.status_code == 400
    page = response.content.decode()
    assert "When does the shift end?" in page
    assert "Enter a date and time, like 2026-10-03 18:30." in page
    assert "Ensure this value is greater than or equal to 1." in page
    assert Event.objects.count() == 0 and Shift.objects.count() == 0


def test_host_form_shift_outside_the_event_is_shown_on_its_row(client):
    client.force_login(UserFactory())
    body = {
        **create_form(capacity=""),
        **shift_rows({"starts_at": local_input(hour=17), "ends_at": local_input(hour=19)}),
    }
    response = client.post("/events/new/", body)
    assert response.status_code == 400
    assert "Shifts happen during the event: " in response.content.decode()
    assert Event.objects.count() == 0 and Shift.objects.count() == 0


def test_host_form_capacity_with_shifts_is_explained(client):
    client.force_login(UserFactory())
    body = {
        **create_form(capacity="20"),
        **shift_rows({"starts_at": local_input(hour=18), "ends_at": local_input(hour=19)}),
    }
    response = client.post("/events/new/", body)
    assert response.status_code == 400
    assert "With shifts, each shift has its own capacity" in response.content.decode()


def test_host_form_bad_question_row_is_refused_on_its_row(client):
    client.force_login(UserFactory())
    body = {
        **create_form(),
        **question_rows({"label": "Pick", "kind": "choice", "choices_text": "only one"}),
    }
    response = client.post("/events/new/", body)
    assert response.status_code == 400
    assert "A pick-one question needs at least two choices." in response.content.decode()
    assert Event.objects.count() == 0


def test_host_edits_shift_and_removes_a_question(client):
    client, event, _ = host_client(client)
    shift = ShiftFactory(event=event, capacity=3)
    question = EventQuestionFactory(event=event, label="Diet")
    page = client.get(f"/events/{event.uuid}/edit/").content.decode()
    assert f'name="shifts-0-id" value="{shift.pk}"' in page
    assert 'value="Diet"' in page
    start = shift.starts_at.astimezone(event.zone)
    body = {
        **create_form(
            starts_at=event.local_start.strftime("%Y-%m-%dT%H:%M"),
            ends_at=event.local_end.strftime("%Y-%m-%dT%H:%M"),
            timezone="America/Denver",
            capacity="",
        ),
        **shift_rows(
            {
                "id": str(shift.pk),
                "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
                "ends_at": (start + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"),
                "capacity": "4",
                "waitlist_enabled": "on",
            },
            initial=1,
        ),
        **question_rows(
            {"id": str(question.pk), "label": "Diet", "kind": "text", "DELETE": "on"},
            initial=1,
        ),
    }
    response = client.post(f"/events/{event.uuid}/edit/", body)
    assert response.status_code == 302, response.content.decode()[:3000]
    shift.refresh_from_db()
    assert (shift.capacity, shift.ends_at - shift.starts_at) == (4, timedelta(minutes=30))
    assert EventQuestion.objects.count() == 0
    assert "shifts" in AuditEntry.objects.filter(action="event.updated").last().data["changed"]


def test_host_form_shift_id_of_another_event_is_refused(client):
    client, event, _ = host_client(client)
    other = ShiftFactory()
    body = {
        **create_form(
            starts_at=event.local_start.strftime("%Y-%m-%dT%H:%M"),
            ends_at=event.local_end.strftime("%Y-%m-%dT%H:%M"),
            timezone="America/Denver",
            capacity="",
        ),
        **shift_rows(
            {
                "id": str(other.pk),
                "starts_at": event.local_start.strftime("%Y-%m-%dT%H:%M"),
                "ends_at": event.local_end.strftime("%Y-%m-%dT%H:%M"),
            },
            initial=1,
        ),
    }
    response = client.post(f"/events/{event.uuid}/edit/", body)
    assert response.status_code == 400
    assert "That shift is no longer there" in response.content.decode()
    assert other.event.shifts.count() == 1 and event.shifts.count() == 0


# --- the RSVP form -------------------------------------------------------------------------


def test_event_page_offers_shifts_with_spots_left_and_asks_the_questions(client):
    event, early, late, _, _ = phone_bank()
    rsvp_create(event=event, person_data=PersonData(email="x@example.org"), shifts=[late.pk])
    Shift.objects.filter(pk=late.pk).update(waitlist_enabled=False)
    page = client.get(f"/events/{event.uuid}/").content.decode()
    assert "2 spots left" in page
    assert "· full" in page
    assert f'value="{late.pk}"' in page and "disabled" in page
    assert "Calling in" in page and "Anything else?" in page
    assert "Pick your shifts" in page


def test_rsvp_with_shifts_and_answers_is_stored(client):
    event, early, late, language, notes = phone_bank()
    body = rsvp_form(shifts=[str(early.pk), str(late.pk)])
    body[language.field_name] = "Spanish"
    body[notes.field_name] = "  I can bring snacks  "
    response = client.post(f"/events/{event.uuid}/rsvp/", body)
    assert response.status_code == 302
    rsvp = Rsvp.objects.get()
    assert rsvp.answers == {str(language.pk): "Spanish", str(notes.pk): "I can bring snacks"}
    assert sorted(ShiftSignup.objects.values_list("shift_id", "status")) == [
        (early.pk, "accepted"),
        (late.pk, "accepted"),
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"shifts": []}, "Pick at least one shift."),
        ({"shifts": ["abc"]}, "Pick shifts from the list."),
        ({"shifts": ["99999"]}, "Pick shifts from the list."),
        ({"language": "Klingon"}, "Pick one of the choices listed."),
        ({"notes": "x" * 2001}, "Ensure this value has at most 2000 characters"),
        ({"notes": "bad\x00byte"}, "Null characters are not allowed."),
    ],
)
def test_rsvp_bad_shift_or_answer_gets_a_clear_message_and_nothing_is_stored(
    client, overrides, message
):
    event, early, _, language, notes = phone_bank()
    body = rsvp_form(shifts=[str(early.pk)])
    body[language.field_name] = "English"
    for key, value in overrides.items():
        body[{"language": language.field_name, "notes": notes.field_name}.get(key, key)] = value
    response = client.post(f"/events/{event.uuid}/rsvp/", body)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Rsvp.objects.count() == 0


def test_rsvp_required_question_must_be_answered(client):
    event, early, _, language, _ = phone_bank()
    language.required = True
    language.save()
    response = client.post(f"/events/{event.uuid}/rsvp/", rsvp_form(shifts=[str(early.pk)]))
    assert response.status_code == 400
    assert "Please pick one." in response.content.decode()
    assert Rsvp.objects.count() == 0


def test_rsvp_answer_with_html_is_stored_as_text_and_shown_escaped_to_the_host(client):
    event, early, _, _, notes = phone_bank()
    body = rsvp_form(shifts=[str(early.pk)])
    body[notes.field_name] = "<script>alert(1)</script>"
    assert client.post(f"/events/{event.uuid}/rsvp/", body).status_code == 302
    host = person_with_email()
    EventHostFactory(event=event, person=host)
    client.force_login(UserFactory(person=host))
    page = client.get(f"/events/{event.uuid}/manage/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page


def test_my_rsvp_page_lists_my_shifts(client):
    event, early, late, _, _ = phone_bank()
    user = UserFactory(person=person_with_email("ana@example.org"))
    rsvp_create(event=event, person=user.person, shifts=[early.pk])
    client.force_login(user)
    page = client.get(f"/events/{event.uuid}/").content.decode()
    assert "Your shifts" in page
    ics = client.get(f"/events/{event.uuid}/event.ics").content.decode()
    assert ics.count("BEGIN:VEVENT") == 1 and "Your shift:" in ics


# --- the host's pages ------------------------------------------------------------------------


def going_in(event, shifts, email, name, **answers):
    return rsvp_create(
        event=event,
        person_data=PersonData(email=email, given_name=name),
        shifts=shifts,
        answers=answers,
    )


def test_dashboard_shows_who_is_in_each_shift_and_the_answers(client):
    client, event, _ = host_client(client)
    early = ShiftFactory(event=event, capacity=1)
    late = ShiftFactory(event=event, starts_at=early.ends_at, ends_at=event.ends_at)
    size = EventQuestionFactory(
        event=event, label="T-shirt size", kind="choice", choices=["S", "M"]
    )
    going_in(event, [early.pk], "ana@example.org", "Ana", **{str(size.pk): "M"})
    going_in(event, [early.pk, late.pk], "ben@example.org", "Ben")
    response = client.get(f"/events/{event.uuid}/manage/")
    page = response.content.decode()
    rosters = response.context["shifts"]
    assert [[r.person.given_name for r in roster.going] for roster in rosters] == [["Ana"], ["Ben"]]
    assert [[r.person.given_name for r in roster.waiting] for roster in rosters] == [["Ben"], []]
    assert "T-shirt size" in page and 'data-label="T-shirt size">M</td>' in page
    assert "Export attendees (CSV)" in page


@pytest.mark.parametrize("n", [1, 3])
def test_dashboard_with_shifts_query_count_same_for_1_and_3(client, django_assert_num_queries, n):
    client, event, _ = host_client(client)
    early = ShiftFactory(event=event, capacity=10)
    EventQuestionFactory(event=event)
    for i in range(n):
        going_in(event, [early.pk], f"p{i}@example.org", f"P{i}")
    with django_assert_num_queries(14):  # + the people's shifts, + the shifts' rosters
        response = client.get(f"/events/{event.uuid}/manage/")
    assert response.status_code == 200


def test_checkin_shows_shifts_and_narrows_to_one(client):
    client, event, _ = host_client(client)
    early = ShiftFactory(event=event)
    late = ShiftFactory(event=event, starts_at=early.ends_at, ends_at=event.ends_at)
    going_in(event, [early.pk], "ana@example.org", "Ana")
    going_in(event, [late.pk], "ben@example.org", "Ben")
    everyone = client.get(f"/events/{event.uuid}/checkin/")
    assert [r.person.given_name for r in everyone.context["rsvps"]] == ["Ana", "Ben"]
    narrowed = client.get(f"/events/{event.uuid}/checkin/?shift={late.pk}")
    assert [r.person.given_name for r in narrowed.context["rsvps"]] == ["Ben"]
    assert client.get(f"/events/{event.uuid}/checkin/?shift=nonsense").status_code == 200


def test_walk_in_can_be_put_in_a_shift(client):
    client, event, _ = host_client(client)
    early = ShiftFactory(event=event, capacity=1)
    going_in(event, [early.pk], "ana@example.org", "Ana")
    response = client.post(
        f"/events/{event.uuid}/checkin/walk-in/",
        {"given_name": "Cy", "email": "cy@example.org", "shift": str(early.pk)},
    )
    assert response.status_code == 302
    walk_in = Rsvp.objects.get(person__given_name="Cy")
    assert list(walk_in.shift_signups.values_list("shift_id", "status")) == [(early.pk, "accepted")]
    bad = client.post(
        f"/events/{event.uuid}/checkin/walk-in/",
        {"given_name": "Di", "email": "di@example.org", "shift": "x"},
    )
    assert bad.status_code == 400


def test_attendees_csv_has_shifts_and_answers_and_defuses_formulas(client):
    client, event, _ = host_client(client)
    early = ShiftFactory(event=event)
    notes = EventQuestionFactory(event=event, label="Notes")
    going_in(event, [early.pk], "ana@example.org", "=HYPERLINK(1)", **{str(notes.pk): "+sum(A1)"})
    response = client.get(f"/events/{event.uuid}/attendees.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode().lstrip("\ufeff")
    header, row = list(csv.reader(io.StringIO(text)))
    assert header[:7] == [
        "status",
        "given_name",
        "family_name",
        "email",
        "phone",
        "guests",
        "shifts",
    ]
    assert "Notes" in header
    values = dict(zip(header, row, strict=True))
    assert values["given_name"] == "'=HYPERLINK(1)"
    assert values["Notes"] == "'+sum(A1)"
    assert values["status"] == "Going"
    assert values["shifts"].startswith(early.local_start.strftime("%a, %b"))


def test_attendees_csv_is_for_hosts_only(client):
    event = EventFactory()
    client.force_login(UserFactory())
    assert client.get(f"/events/{event.uuid}/attendees.csv").status_code == 403


def test_past_shifts_are_not_offered(client):
    event = EventFactory(
        starts_at=timezone.now() - timedelta(hours=1), ends_at=timezone.now() + timedelta(hours=2)
    )
    ShiftFactory(event=event, starts_at=event.starts_at, ends_at=timezone.now())
    later = ShiftFactory(event=event, starts_at=timezone.now(), ends_at=event.ends_at)
    form = client.get(f"/events/{event.uuid}/").context["form"]
    assert [value for value, _ in form.fields["shifts"].choices] == [str(later.pk)]
