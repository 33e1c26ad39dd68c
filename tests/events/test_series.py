"""Repeating events: a Series of real events, made from the host form, edited one at a time,
"this and following" or all (times move by the same wall-clock offset; occurrences that have
started are never changed), cancelled one at a time or the rest."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from rallypoint.events.models import Event, EventQuestion, Series, Shift
from rallypoint.events.services import (
    EventData,
    RepeatData,
    Scope,
    ShiftData,
    event_cancel,
    event_update,
    occurrence_starts,
    rsvp_create,
    series_create,
)
from rallypoint.events.services.series import MAX_OCCURRENCES
from rallypoint.people.services import PersonData
from tests.events.factories import person_with_email
from tests.events.test_shift_question_views import management
from tests.events.test_views import create_form, host_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

DENVER = ZoneInfo("America/Denver")


def at(y, m, d, hour=18, minute=0):
    return datetime(y, m, d, hour, minute, tzinfo=DENVER)


# --- when the occurrences happen -----------------------------------------------------------


def test_weekly_keeps_the_wall_clock_time_across_the_change_of_summer_time():
    starts = occurrence_starts(at(2031, 3, 4), DENVER, RepeatData("weekly", count=3))
    assert [(s.month, s.day, s.hour) for s in starts] == [(3, 4, 18), (3, 11, 18), (3, 18, 18)]
    assert starts[0].utcoffset() != starts[1].utcoffset()  # MST, then MDT


def test_every_two_weeks_until_a_date_includes_that_date():
    starts = occurrence_starts(
        at(2031, 1, 6), DENVER, RepeatData("biweekly", until=date(2031, 2, 3))
    )
    assert [s.date() for s in starts] == [date(2031, 1, 6), date(2031, 1, 20), date(2031, 2, 3)]


def test_monthly_is_the_same_weekday_of_the_month_and_a_fifth_one_is_the_last():
    second_tuesday = occurrence_starts(at(2031, 1, 14), DENVER, RepeatData("monthly", count=3))
    assert [s.date() for s in second_tuesday] == [
        date(2031, 1, 14),
        date(2031, 2, 11),
        date(2031, 3, 11),
    ]
    fifth_friday = occurrence_starts(at(2031, 1, 31), DENVER, RepeatData("monthly", count=3))
    assert [s.date() for s in fifth_friday] == [
        date(2031, 1, 31),
        date(2031, 2, 28),
        date(2031, 3, 28),
    ]


# --- making a series -----------------------------------------------------------------------


def future_data(**overrides):
    start = (timezone.now() + timedelta(days=2)).astimezone(DENVER)
    start = start.replace(hour=18, minute=0, second=0, microsecond=0)
    values = {
        "title": "Phone bank",
        "starts_at": start,
        "ends_at": start + timedelta(hours=2),
        "timezone": "America/Denver",
        "postal_code": "80202",
    }
    values.update(overrides)
    return EventData(**values)


def make_series(count=4, **overrides):
    host = person_with_email()
    data = future_data(**overrides)
    shifts = [
        ShiftData(starts_at=data.starts_at, ends_at=data.starts_at + timedelta(hours=1), capacity=3)
    ]
    questions = [{"label": "Language", "kind": "text"}]
    events = series_create(
        data=data,
        repeat=RepeatData("weekly", count=count),
        host=host,
        actor=None,
        shifts=shifts,
        questions=questions,
    )
    return events, UserFactory(person=host)


def test_series_create_makes_real_events_with_their_own_shifts_and_questions():
    events, _ = make_series()
    assert Series.objects.count() == 1
    assert [e.local_start.hour for e in events] == [18] * 4
    assert [(e.starts_at - events[0].starts_at).days for e in events] == [0, 7, 14, 21]
    assert all(e.hosts.count() == 1 for e in events)
    shifts = list(Shift.objects.order_by("event__starts_at"))
    assert len(shifts) == 4 and len({s.series_key for s in shifts}) == 1
    assert [s.starts_at == s.event.starts_at for s in shifts] == [True] * 4
    assert EventQuestion.objects.count() == 4
    # Each occurrence has its own RSVPs.
    rsvp_create(
        event=events[1], person_data=PersonData(email="ana@example.org"), shifts=[shifts[1].pk]
    )
    assert [e.rsvps.count() for e in events] == [0, 1, 0, 0]


def test_series_is_capped_and_its_end_is_checked():
    data = future_data()
    with pytest.raises(ValidationError) as caught:
        series_create(
            data=data,
            repeat=RepeatData("weekly", until=(data.starts_at + timedelta(weeks=60)).date()),
            host=person_with_email(),
        )
    assert caught.value.message_dict == {
        "repeat_until": [
            f"That makes more than {MAX_OCCURRENCES} events; a series has at most "
            f"{MAX_OCCURRENCES}. Pick an earlier last date."
        ]
    }
    with pytest.raises(ValidationError) as caught:
        series_create(data=data, repeat=RepeatData("weekly", count=53), host=person_with_email())
    assert "between 2 and 52" in caught.value.message_dict["repeat_count"][0]
    with pytest.raises(ValidationError) as caught:
        series_create(
            data=data,
            repeat=RepeatData("weekly", until=data.starts_at.date()),
            host=person_with_email(),
        )
    assert "repeat_until" in caught.value.message_dict
    assert Event.objects.count() == 0 and Series.objects.count() == 0


def test_host_form_makes_a_series(client):
    client.force_login(UserFactory())
    response = client.post(
        "/events/new/", {**create_form(), "repeat": "biweekly", "repeat_count": "3"}
    )
    assert response.status_code == 302
    events = list(Event.objects.order_by("starts_at"))
    assert len(events) == 3 and events[0].series_id == events[2].series_id is not None
    assert response["Location"] == f"/events/{events[0].uuid}/manage/"
    page = client.get(response["Location"]).content.decode()
    assert "The series" in page and "Every 2 weeks" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"repeat": "weekly"}, "Say how many times it happens, or until which date."),
        (
            {"repeat": "weekly", "repeat_count": "1"},
            "Ensure this value is greater than or equal to 2.",
        ),
        (
            {"repeat": "weekly", "repeat_count": "999"},
            "Ensure this value is less than or equal to 52.",
        ),
        ({"repeat": "daily", "repeat_count": "3"}, "Select a valid choice."),
        (
            {"repeat": "weekly", "repeat_count": "3", "repeat_until": "2099-01-01"},
            "Give a number of times or a last date, not both.",
        ),
        ({"repeat": "weekly", "repeat_until": "2099-01-01"}, "a series has at most 52"),
        ({"repeat": "weekly", "repeat_until": "yesterday"}, "Enter a valid date."),
    ],
)
def test_host_form_repeat_bad_input_is_explained(client, fields, message):
    client.force_login(UserFactory())
    response = client.post("/events/new/", {**create_form(), **fields})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Event.objects.count() == 0


# --- editing a series ----------------------------------------------------------------------


def test_edit_this_event_only_leaves_the_others():
    events, user = make_series()
    data = EventData.from_event(events[1])
    data.title = "Phone bank (special)"
    event_update(event=events[1], data=data, actor=user, scope=Scope.THIS)
    assert [e.title for e in Event.objects.order_by("starts_at")] == [
        "Phone bank",
        "Phone bank (special)",
        "Phone bank",
        "Phone bank",
    ]


def test_edit_this_and_following_moves_the_times_by_the_same_offset_and_sets_what_changed():
    events, user = make_series()
    before = [e.starts_at for e in events]
    data = EventData.from_event(events[1])
    data.title = "Evening phone bank"
    data.starts_at += timedelta(minutes=30)
    data.ends_at += timedelta(hours=1)
    event_update(event=events[1], data=data, actor=user, scope=Scope.FOLLOWING)
    after = list(Event.objects.order_by("starts_at"))
    assert [e.title for e in after] == ["Phone bank"] + ["Evening phone bank"] * 3
    assert [e.starts_at - b for e, b in zip(after, before, strict=True)] == [
        timedelta(0),
        timedelta(minutes=30),
        timedelta(minutes=30),
        timedelta(minutes=30),
    ]
    assert [e.ends_at - e.starts_at for e in after] == [timedelta(hours=2)] + [
        timedelta(hours=2, minutes=30)
    ] * 3
    # Their shifts keep their place in the evening.
    assert [e.shifts.get().starts_at == e.starts_at for e in after[1:]] == [True] * 3


def test_edit_all_changes_every_upcoming_one_but_never_one_that_started():
    events, user = make_series()
    started = events[0]
    Event.objects.filter(pk=started.pk).update(
        starts_at=timezone.now() - timedelta(minutes=10),
        ends_at=timezone.now() + timedelta(hours=1),
    )
    data = EventData.from_event(events[2])
    data.venue = "Union hall"
    data.description = "Bring a phone charger."
    event_update(event=events[2], data=data, actor=user, scope=Scope.ALL)
    after = {e.pk: e for e in Event.objects.all()}
    assert after[started.pk].venue == "" and after[started.pk].description == ""
    assert [after[e.pk].venue for e in events[1:]] == ["Union hall"] * 3
    assert [after[e.pk].description for e in events[1:]] == ["<p>Bring a phone charger.</p>"] * 3


def test_edit_all_keeps_an_occurrence_own_changes_to_other_fields():
    events, user = make_series()
    own = EventData.from_event(events[3])
    own.title = "Last phone bank: party!"
    event_update(event=events[3], data=own, actor=user)
    data = EventData.from_event(events[0])
    data.instructions = "Door code 1234"
    event_update(event=events[0], data=data, actor=user, scope=Scope.ALL)
    last = Event.objects.get(pk=events[3].pk)
    assert (last.title, last.instructions) == ("Last phone bank: party!", "Door code 1234")


def test_edit_following_reaches_shifts_and_questions_by_their_series_key():
    events, user = make_series(count=3)
    first = events[0]
    shift = first.shifts.get()
    question = first.questions.get()
    data = EventData.from_event(first)
    rows = [ShiftData.from_shift(shift)]
    rows[0].capacity = 5
    rows.append(
        ShiftData(starts_at=shift.ends_at, ends_at=first.ends_at, capacity=2)  # a new shift
    )
    questions = [
        {"id": question.pk, "label": "Language you call in", "kind": "text"},
        {"id": None, "label": "T-shirt", "kind": "choice", "choices": ["S", "M"]},
    ]
    event_update(
        event=first, data=data, actor=user, shifts=rows, questions=questions, scope=Scope.FOLLOWING
    )
    for event in Event.objects.order_by("starts_at"):
        assert [(s.capacity, s.starts_at - event.starts_at) for s in event.shifts.all()] == [
            (5, timedelta(0)),
            (2, timedelta(hours=1)),
        ]
        assert [q.label for q in event.questions.all()] == ["Language you call in", "T-shirt"]
    assert len(set(Shift.objects.values_list("series_key", flat=True))) == 2


def test_edit_following_that_fails_for_one_occurrence_changes_none_and_names_it():
    events, user = make_series(count=3)
    shift = events[2].shifts.get()
    rsvp_create(event=events[2], person_data=PersonData(email="a@example.org"), shifts=[shift.pk])
    rsvp_create(event=events[2], person_data=PersonData(email="b@example.org"), shifts=[shift.pk])
    first_shift = events[0].shifts.get()
    rows = [ShiftData.from_shift(first_shift)]
    rows[0].capacity = 1  # below the 2 people in the third event's shift
    with pytest.raises(ValidationError) as caught:
        event_update(
            event=events[0],
            data=EventData.from_event(events[0]),
            actor=user,
            shifts=rows,
            scope=Scope.ALL,
        )
    local = events[2].local_start
    assert caught.value.messages[0].startswith(f"The event on {local:%a, %b} {local.day}")
    assert sorted(Shift.objects.values_list("capacity", flat=True)) == [3, 3, 3]


def test_edit_series_from_the_host_form(client):
    client, _, user = host_client(client)
    events = series_create(
        data=future_data(),
        repeat=RepeatData("weekly", count=3),
        host=user.person,
        actor=user,
    )
    page = client.get(f"/events/{events[0].uuid}/edit/").content.decode()
    assert "This and the following events" in page
    form = {
        **create_form(
            title="Renamed",
            starts_at=events[1].local_start.strftime("%Y-%m-%dT%H:%M"),
            ends_at=events[1].local_end.strftime("%Y-%m-%dT%H:%M"),
            timezone="America/Denver",
        ),
        **management("shifts", 0),
        **management("questions", 0),
        "apply_to": "following",
    }
    response = client.post(f"/events/{events[1].uuid}/edit/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert [e.title for e in Event.objects.filter(series__isnull=False).order_by("starts_at")] == [
        "Phone bank",
        "Renamed",
        "Renamed",
    ]
    bad = client.post(f"/events/{events[1].uuid}/edit/", {**form, "apply_to": "everything"})
    assert bad.status_code == 400


# --- cancelling ----------------------------------------------------------------------------


def test_cancel_the_rest_of_a_series_tells_everyone_and_keeps_earlier_ones():
    events, user = make_series()
    shift = events[3].shifts.get()
    rsvp_create(event=events[3], person_data=PersonData(email="ana@example.org"), shifts=[shift.pk])
    mail.outbox.clear()
    event_cancel(event=events[2], actor=user, reason="Summer break", scope=Scope.FOLLOWING)
    assert [e.status for e in Event.objects.filter(series__isnull=False).order_by("starts_at")] == [
        "confirmed",
        "confirmed",
        "cancelled",
        "cancelled",
    ]
    assert [m.to[0] for m in mail.outbox] == ["ana@example.org"]


def test_cancel_one_of_a_series_from_its_page(client):
    client, _, user = host_client(client)
    events = series_create(
        data=future_data(), repeat=RepeatData("weekly", count=3), host=user.person, actor=user
    )
    page = client.get(f"/events/{events[1].uuid}/cancel/").content.decode()
    assert "This and the following events" in page
    response = client.post(f"/events/{events[1].uuid}/cancel/", {"scope": "this", "reason": ""})
    assert response.status_code == 302
    assert [e.status for e in Event.objects.filter(series__isnull=False).order_by("starts_at")] == [
        "confirmed",
        "cancelled",
        "confirmed",
    ]
    bad = client.post(f"/events/{events[2].uuid}/cancel/", {"scope": "<all>"})
    assert bad.status_code == 200  # the page again, with the choice to fix
    assert Event.objects.get(pk=events[2].pk).status == "confirmed"
