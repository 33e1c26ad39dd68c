from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from rallypoint.core.models import AuditEntry
from rallypoint.events.models import Approval, CampaignEventSettings, Event, EventHost, Rsvp
from rallypoint.events.services import (
    EventData,
    event_cancel,
    event_create,
    event_duplicate,
    event_update,
    rsvp_cancel,
    rsvp_check_in,
    rsvp_create,
)
from rallypoint.ledger.models import Activity, Recruitment
from rallypoint.mission.models import Campaign
from rallypoint.people.models import Person
from rallypoint.people.services import PersonData
from rallypoint.sharing.referral import Referral
from tests.events.factories import EventFactory, EventHostFactory, person_with_email
from tests.factories import OrganizerFactory, UserFactory

# Real commits: on_commit work (emails, promotions) runs as it does in production.
pytestmark = pytest.mark.django_db(transaction=True)

DENVER = ZoneInfo("America/Denver")


def future(days=5, hour=18):
    day = (timezone.now() + timedelta(days=days)).astimezone(DENVER)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def data(**overrides) -> EventData:
    values = {
        "title": "Canvass kickoff",
        "event_type": "canvass",
        "starts_at": future(),
        "ends_at": future() + timedelta(hours=2),
        "timezone": "America/Denver",
        "postal_code": "80202",
        "venue": "Union hall",
    }
    values.update(overrides)
    return EventData(**values)


def going(event, n, *, guests=0):
    return [
        rsvp_create(
            event=event,
            person_data=PersonData(email=f"guest{event.pk}-{i}@example.org", given_name=f"G{i}"),
            guests=guests,
        )
        for i in range(n)
    ]


def test_event_create_geocodes_postal_code():
    host = person_with_email()
    event = event_create(data=data(), host=host)
    assert (event.latitude, event.longitude) == (39.7491, -104.9946)
    assert (event.locality, event.region) == ("Denver", "CO")
    assert event.approval == Approval.APPROVED
    assert list(event.hosts.values_list("person_id", flat=True)) == [host.pk]


def test_event_create_keeps_precise_point_when_given():
    event = event_create(data=data(latitude=39.7392, longitude=-104.9903), host=person_with_email())
    assert (event.latitude, event.longitude) == (39.7392, -104.9903)


def test_event_create_takes_time_zone_from_postal_code_when_blank():
    event = event_create(data=data(timezone="", postal_code="94110"), host=person_with_email())
    assert event.timezone == "America/Los_Angeles"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"starts_at": timezone.now() - timedelta(hours=1)},
            "starts_at",
            "That time has already passed. Pick a time in the future.",
        ),
        (
            {"ends_at": future() - timedelta(hours=1)},
            "ends_at",
            "The end has to be after the start.",
        ),
        (
            {"postal_code": "00000"},
            "postal_code",
            "We don't know the postal code “00000”. Check it, or give the exact latitude and "
            "longitude.",
        ),
        ({"title": "  "}, "title", "Give the event a name."),
        ({"timezone": "Mars/Olympus"}, "timezone", "Choose the time zone the event happens in."),
        (
            {"location_mode": "virtual", "postal_code": "", "join_url": ""},
            "join_url",
            "Add the link people use to join online.",
        ),
        *[
            (
                {"location_mode": "virtual", "postal_code": "", "join_url": url},
                "join_url",
                "Enter the join link as a web address starting with https:// or http:// "
                "(at most 500 characters).",
            )
            for url in (
                "javascript:alert(1)",
                "ftp://files.example.org/",
                "data:text/html,x",
                "https://" + "a" * 500 + ".org/",
            )
        ],
    ],
)
def test_event_create_bad_input_is_refused_and_nothing_saved(overrides, field, message):
    with pytest.raises(ValidationError) as exc:
        event_create(data=data(**overrides), host=person_with_email())
    assert exc.value.message_dict[field] == [message]
    assert Event.objects.count() == 0
    assert EventHost.objects.count() == 0


def test_event_create_waits_for_approval_when_campaign_asks():
    campaign = Campaign.objects.create(name="Win", slug="win", status="live")
    CampaignEventSettings.objects.create(campaign=campaign, require_approval=True)
    supporter_event = event_create(data=data(campaign=campaign), host=person_with_email())
    organizer_event = event_create(
        data=data(campaign=campaign), host=person_with_email(), actor=OrganizerFactory()
    )
    assert supporter_event.approval == Approval.PENDING
    assert organizer_event.approval == Approval.APPROVED


def test_event_create_site_setting_requires_approval(settings):
    settings.EVENTS_REQUIRE_APPROVAL = True
    event = event_create(data=data(), host=person_with_email())
    assert event.approval == Approval.PENDING


def test_rsvp_create_pending_event_is_refused():
    event = EventFactory(approval=Approval.PENDING)
    with pytest.raises(ValidationError) as exc:
        going(event, 1)
    assert exc.value.messages == ["This event isn't open for RSVPs yet."]
    assert Rsvp.objects.count() == 0


def test_rsvp_create_records_ledger_act_and_confirmation_with_ics():
    event = EventFactory(title="Phone bank")
    rsvp = rsvp_create(
        event=event,
        person_data=PersonData(email="ana@example.org", given_name="Ana"),
        guests=2,
        comment="Bringing snacks",
    )
    assert (rsvp.status, rsvp.guests, rsvp.comment) == ("accepted", 2, "Bringing snacks")
    event.refresh_from_db()
    assert event.seats_taken == 3
    act = Activity.objects.get(kind="rsvp")
    assert (act.person_id, act.target_id, act.points) == (rsvp.person_id, str(event.pk), 2)
    assert [m.subject for m in mail.outbox] == ["You're going: Phone bank"]
    assert mail.outbox[0].to == ["ana@example.org"]
    assert mail.outbox[0].attachments[0][0] == "event.ics"
    assert mail.outbox[0].attachments[0][2] == "text/calendar"


def test_rsvp_create_matches_existing_person_by_email():
    person = person_with_email("Maya@Example.org")
    rsvp = rsvp_create(
        event=EventFactory(), person_data=PersonData(email="maya@example.org", given_name="Maya")
    )
    assert rsvp.person_id == person.pk
    assert Person.objects.count() == 1


def test_rsvp_create_twice_returns_same_rsvp_and_one_act():
    event = EventFactory(capacity=10)
    first = going(event, 1)[0]
    again = rsvp_create(event=event, person_data=PersonData(email=f"guest{event.pk}-0@example.org"))
    event.refresh_from_db()
    assert again.pk == first.pk
    assert event.seats_taken == 1
    assert Activity.objects.filter(kind="rsvp").count() == 1


def test_rsvp_create_with_referral_records_recruitment():
    campaign = Campaign.objects.create(name="Win", slug="win", status="live")
    referrer = person_with_email()
    event = EventFactory(campaign=campaign)
    rsvp = rsvp_create(
        event=event,
        person_data=PersonData(email="new@example.org"),
        referral=Referral(code=referrer.share_code, channel="whatsapp"),
    )
    act = Activity.objects.get(kind="rsvp")
    assert (act.referrer_id, act.channel) == (referrer.pk, "whatsapp")
    edge = Recruitment.objects.get()
    assert (edge.recruiter_id, edge.recruit_id, edge.channel) == (
        referrer.pk,
        rsvp.person_id,
        "whatsapp",
    )


def test_rsvp_create_over_capacity_goes_to_waitlist():
    event = EventFactory(capacity=2)
    rsvps = going(event, 3)
    event.refresh_from_db()
    assert [r.status for r in rsvps] == ["accepted", "accepted", "waitlisted"]
    assert event.seats_taken == 2
    assert Activity.objects.filter(kind="rsvp").count() == 2
    assert mail.outbox[-1].subject == f"You're on the waitlist: {event.title}"


def test_rsvp_create_full_without_waitlist_is_refused():
    event = EventFactory(capacity=1, waitlist_enabled=False)
    going(event, 1)
    with pytest.raises(ValidationError) as exc:
        rsvp_create(event=event, person_data=PersonData(email="late@example.org"))
    assert exc.value.messages == ["Sorry, this event is full."]
    assert Rsvp.objects.count() == 1


def test_rsvp_create_past_event_is_refused():
    event = EventFactory(
        starts_at=timezone.now() - timedelta(hours=3), ends_at=timezone.now() - timedelta(hours=1)
    )
    with pytest.raises(ValidationError) as exc:
        going(event, 1)
    assert exc.value.messages == ["This event has already happened."]
    assert Rsvp.objects.count() == 0


def test_rsvp_create_bad_guest_count_is_refused():
    with pytest.raises(ValidationError) as exc:
        going(EventFactory(), 1, guests=11)
    assert exc.value.message_dict == {"guests": ["Bring between 0 and 10 guests."]}
    assert Person.objects.count() == 0


def test_rsvp_cancel_promotes_waitlist_in_order_and_tells_them():
    event = EventFactory(capacity=2)
    first, _second, third, fourth = going(event, 4)
    mail.outbox.clear()
    rsvp_cancel(rsvp=first)
    statuses = dict(Rsvp.objects.values_list("pk", "status"))
    assert statuses[first.pk] == "cancelled"
    assert statuses[third.pk] == "accepted"
    assert statuses[fourth.pk] == "waitlisted"
    event.refresh_from_db()
    assert event.seats_taken == 2
    assert [m.subject for m in mail.outbox] == [f"A spot opened up — you're going to {event.title}"]
    assert mail.outbox[0].to == [f"guest{event.pk}-2@example.org"]
    promoted_act = Activity.objects.filter(kind="rsvp", person=third.person).get()
    assert promoted_act.details["from_waitlist"] is True


def test_rsvp_cancel_skips_party_that_does_not_fit():
    event = EventFactory(capacity=2)
    first = going(event, 1)[0]
    going(event, 1)
    big = rsvp_create(event=event, person_data=PersonData(email="big@example.org"), guests=3)
    small = rsvp_create(event=event, person_data=PersonData(email="small@example.org"))
    rsvp_cancel(rsvp=first)
    big.refresh_from_db()
    small.refresh_from_db()
    assert (big.status, small.status) == ("waitlisted", "accepted")


def test_event_update_capacity_below_rsvps_is_refused_and_unchanged():
    organizer = OrganizerFactory()
    event = event_create(data=data(capacity=10), host=person_with_email(), actor=organizer)
    going(event, 4)
    event.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        event_update(event=event, data=_with(event, capacity=3), actor=organizer)
    assert exc.value.message_dict["capacity"] == [
        "4 people (with guests) are already going, so capacity can't be lower than 4."
    ]
    event.refresh_from_db()
    assert event.capacity == 10


def _with(event, **changes) -> EventData:
    values = EventData.from_event(event)
    for key, value in changes.items():
        setattr(values, key, value)
    return values


def test_event_update_raising_capacity_promotes_waitlist():
    organizer = OrganizerFactory()
    event = event_create(data=data(capacity=1), host=person_with_email(), actor=organizer)
    _, waiting = going(event, 2)
    event.refresh_from_db()
    event_update(event=event, data=_with(event, capacity=2), actor=organizer)
    waiting.refresh_from_db()
    assert waiting.status == "accepted"


def test_event_update_time_change_tells_attendees_once():
    organizer = OrganizerFactory()
    event = event_create(data=data(), host=person_with_email(), actor=organizer)
    going(event, 2)
    mail.outbox.clear()
    event.refresh_from_db()
    new_start = event.starts_at + timedelta(hours=1)
    event_update(
        event=event,
        data=_with(event, starts_at=new_start, ends_at=new_start + timedelta(hours=2)),
        actor=organizer,
    )
    event.refresh_from_db()
    assert event.revision == 1
    assert sorted(m.to[0] for m in mail.outbox) == [
        f"guest{event.pk}-0@example.org",
        f"guest{event.pk}-1@example.org",
    ]
    assert {m.subject for m in mail.outbox} == {f"Changed: {event.title}"}


def test_event_update_description_change_sends_nothing():
    organizer = OrganizerFactory()
    event = event_create(data=data(), host=person_with_email(), actor=organizer)
    going(event, 1)
    mail.outbox.clear()
    event.refresh_from_db()
    event_update(event=event, data=_with(event, description="Bring water"), actor=organizer)
    assert mail.outbox == []
    event.refresh_from_db()
    assert (event.description, event.revision) == ("<p>Bring water</p>", 0)


def test_event_update_by_stranger_is_forbidden_and_unchanged():
    event = EventHostFactory().event
    stranger = UserFactory(person=person_with_email())
    with pytest.raises(PermissionDenied):
        event_update(event=event, data=_with(event, title="Hijacked"), actor=stranger)
    event.refresh_from_db()
    assert event.title != "Hijacked"
    assert AuditEntry.objects.count() == 0


def test_event_cancel_notifies_everyone_with_cancelled_calendar_entry():
    host = person_with_email()
    user = UserFactory(person=host)
    event = EventHostFactory(person=host, event__capacity=1).event
    going(event, 2)
    mail.outbox.clear()
    event_cancel(event=event, actor=user, reason="Storm warning")
    event.refresh_from_db()
    assert event.status == "cancelled"
    assert len(mail.outbox) == 2
    assert "Storm warning" in mail.outbox[0].body
    assert "STATUS:CANCELLED" in mail.outbox[0].attachments[0][1]


def test_event_duplicate_copies_details_without_rsvps():
    host = person_with_email()
    user = UserFactory(person=host)
    event = EventHostFactory(person=host, event__capacity=5).event
    going(event, 2)
    start = future(days=12)
    copy = event_duplicate(event=event, actor=user, starts_at=start, host=host)
    assert (copy.title, copy.capacity, copy.seats_taken) == (event.title, 5, 0)
    assert copy.starts_at == start
    assert copy.ends_at - copy.starts_at == event.ends_at - event.starts_at
    assert copy.rsvps.count() == 0


def test_rsvp_check_in_records_attend_once_and_undo_removes_it():
    host = person_with_email()
    user = UserFactory(person=host)
    event = EventHostFactory(person=host).event
    rsvp = going(event, 1)[0]
    rsvp_check_in(rsvp=rsvp, actor=user)
    rsvp_check_in(rsvp=rsvp, actor=user)
    assert Activity.objects.filter(kind="attend").count() == 1
    rsvp_check_in(rsvp=rsvp, actor=user, attended=False)
    assert Activity.objects.filter(kind="attend").count() == 0
    rsvp.refresh_from_db()
    assert (rsvp.attended, rsvp.checked_in_at) == (False, None)


def test_rsvp_check_in_by_other_host_is_forbidden_and_unchanged():
    event = EventHostFactory().event
    other_host = person_with_email()
    EventHostFactory(person=other_host)
    rsvp = going(event, 1)[0]
    with pytest.raises(PermissionDenied):
        rsvp_check_in(rsvp=rsvp, actor=UserFactory(person=other_host))
    rsvp.refresh_from_db()
    assert rsvp.attended is False
    assert Activity.objects.filter(kind="attend").count() == 0


def test_rsvp_create_walk_in_over_capacity_is_checked_in():
    event = EventFactory(capacity=1, waitlist_enabled=False)
    going(event, 1)
    mail.outbox.clear()
    rsvp = rsvp_create(
        event=event,
        person_data=PersonData(given_name="Walk", phone="+13035550188"),
        walk_in=True,
        attended=True,
    )
    event.refresh_from_db()
    assert (rsvp.status, rsvp.attended, rsvp.walk_in) == ("accepted", True, True)
    assert event.seats_taken == 2
    assert sorted(Activity.objects.values_list("kind", flat=True)) == ["attend", "rsvp", "rsvp"]
    assert mail.outbox == []


# --- the organisation's own events ---------------------------------------------------------


def test_event_create_without_host_by_the_organisation_has_brand_contact(settings):
    settings.RALLYPOINT_BRAND = {**settings.RALLYPOINT_BRAND, "name": "Clean Air Now"}
    settings.EVENTS_REQUIRE_APPROVAL = True
    event = event_create(data=data(), host=None)
    assert (event.contact_name, event.approval, event.hosts.count()) == (
        "Clean Air Now",
        Approval.APPROVED,
        0,
    )
    assert AuditEntry.objects.get(action="event.created").data == {
        "approval": "approved",
        "host": None,
    }


def test_event_create_without_host_by_an_organizer_is_allowed():
    event = event_create(data=data(), host=None, actor=OrganizerFactory())
    assert (event.approval, event.hosts.count()) == (Approval.APPROVED, 0)


def test_event_create_without_host_by_a_supporter_is_forbidden_and_nothing_saved():
    with pytest.raises(PermissionDenied):
        event_create(data=data(), host=None, actor=UserFactory())
    assert Event.objects.count() == 0


def test_event_duplicate_of_an_organisation_event_by_organizer_without_person():
    organizer = OrganizerFactory()
    event = event_create(data=data(), host=None, actor=organizer)
    copy = event_duplicate(event=event, actor=organizer, starts_at=future(days=9), host=None)
    assert (copy.hosts.count(), copy.contact_name) == (0, event.contact_name)
