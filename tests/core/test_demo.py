"""The whole demo (every app's demo.py) is coherent: dated from "today", histories in order,
real names on hosts and leaders, no repeated announcements, only deliberate duplicates."""

import io
import random
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction
from django.db.models import F, Min
from django.test import override_settings

from rallypoint.actions.models import Action, Submission
from rallypoint.core.demo_support import (
    CAMPAIGN_DAYS,
    DemoCalendar,
    DemoContext,
    day_text,
    demo_build,
)
from rallypoint.events.demo_showcase import PHONE_BANK_WEEKS_AHEAD, PHONE_BANK_WEEKS_PAST
from rallypoint.events.models import Event, EventHost, Rsvp, RsvpStatus, Shift, ShiftSignup
from rallypoint.groups.models import Announcement, Group, MemberRole, Membership
from rallypoint.imports.dedupe import duplicate_group_count, duplicate_groups
from rallypoint.ledger.models import Activity, Recruitment
from rallypoint.mission.models import Campaign, Goal
from rallypoint.people.models import Person

pytestmark = pytest.mark.django_db

# A "today" far from the day the tests run, late in the year: a demo that hard-codes a
# November election would show it as past.
TODAY = datetime(2031, 11, 20, 15, 30, tzinfo=UTC)
PEOPLE = 600  # enough for two deliberate duplicates of each kind
MONTH_DAY = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December) \d{1,2}\b"
)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo built once for this module, as on TODAY, and rolled back afterwards."""
    with (
        django_db_blocker.unblock(),
        override_settings(VAR_DIR=tmp_path_factory.mktemp("var")),
        transaction.atomic(),
    ):
        ctx = DemoContext(
            rng=random.Random(2008), people_count=PEOPLE, stdout=io.StringIO(), now=TODAY
        )
        demo_build(ctx)
        yield ctx
        transaction.set_rollback(True)


@pytest.mark.parametrize(
    "today",
    [date(2031, 11, 20), date(2031, 12, 31), date(2032, 2, 28), date(2032, 6, 2)],
)
def test_demo_calendar_counts_every_date_from_today(today):
    now = datetime(today.year, today.month, today.day, 12, tzinfo=UTC)
    cal = DemoCalendar(now)
    assert cal.campaign_start == now - timedelta(days=CAMPAIGN_DAYS)
    assert cal.delivery_day == today + timedelta(days=30)
    assert cal.election_day.weekday() == 1  # a Tuesday
    assert 35 <= (cal.election_day - today).days <= 41
    assert cal.delivery_day < cal.election_day < cal.budget_vote
    assert (cal.budget_vote - cal.election_day).days <= 7


def test_demo_texts_name_only_the_computed_dates(demo):
    cal = demo.calendar
    election = day_text(cal.election_day, weekday=True)
    pledge = Action.objects.get(kind="pledge")
    assert pledge.title == f"Pledge to vote on {election}"
    assert pledge.pledge_headline == f"I will vote on {election}, and bring a friend."
    campaign = Campaign.objects.get(status="live")
    assert day_text(cal.budget_vote, weekday=True) in campaign.story
    allowed = {day_text(cal.delivery_day), day_text(cal.election_day), day_text(cal.budget_vote)}
    texts = [
        campaign.story,
        campaign.summary,
        *Goal.objects.values_list("title", flat=True),
        *(
            value
            for row in Action.objects.values_list(
                "title", "summary", "description", "pledge_headline", "thank_you_message"
            )
            for value in row
        ),
        *(f"{e.title} {e.description}" for e in Event.objects.all()),
    ]
    assert {m for text in texts for m in MONTH_DAY.findall(text)} <= allowed
    for post in Announcement.objects.all():
        # "Canvass on Saturday, December 6": the Saturday after the post.
        saturdays = {
            day_text(post.created_at.date() + timedelta(days=d))
            for d in range(1, 8)
            if (post.created_at.date() + timedelta(days=d)).weekday() == 5
        }
        found = set(MONTH_DAY.findall(f"{post.title} {post.body}"))
        assert found <= allowed | saturdays


def test_demo_dates_lie_around_today(demo):
    cal = demo.calendar
    campaign = Campaign.objects.get(status="live")
    assert campaign.starts_at == TODAY - timedelta(days=CAMPAIGN_DAYS)
    assert campaign.ends_at.date() == cal.budget_vote
    assert campaign.created_at < campaign.starts_at
    deadlines = [g.deadline.date() for g in campaign.goals.all() if g.deadline]
    assert deadlines == [cal.delivery_day, cal.election_day]
    assert not Action.objects.filter(created_at__gt=campaign.starts_at).exists()
    for model in (Person, Event, Group, Membership, Announcement, Rsvp, Submission, Activity):
        assert not model.objects.filter(created_at__gt=TODAY).exists(), model
    assert not Recruitment.objects.filter(created_at__gt=TODAY).exists()
    upcoming = Event.objects.filter(starts_at__gt=TODAY)
    # The ordinary events, the canvass in shifts and the phone bank's evenings to come.
    assert upcoming.count() == 240 + 1 + PHONE_BANK_WEEKS_AHEAD
    assert not upcoming.filter(starts_at__gt=TODAY + timedelta(days=68)).exists()
    past = Event.objects.filter(starts_at__lt=TODAY)
    assert past.count() == 80 + PHONE_BANK_WEEKS_PAST
    assert not past.filter(ends_at__gte=TODAY).exists()
    assert not past.filter(starts_at__lt=campaign.starts_at).exists()


def test_demo_event_titles_fit_their_day_and_hour(demo):
    for event in Event.objects.all():
        start = event.local_start
        if "Saturday" in event.title or "Sunday" in event.title or "Weekend" in event.title:
            assert start.weekday() >= 5, event.title
        if "night" in event.title or "Evening" in event.title or "dinner" in event.title:
            assert start.hour >= 17, event.title
        if "Saturday" in event.title:
            assert start.strftime("%A") == "Saturday", event.title


def test_demo_no_act_comes_before_its_person_joined(demo):
    joined = dict(Person.objects.values_list("pk", "created_at"))
    first = Activity.objects.values("person_id").annotate(first=Min("created_at"))
    early = [row for row in first if row["first"] < joined[row["person_id"]]]
    assert early == []
    assert Activity.objects.filter(kind="share").count() > 100


def test_demo_recruits_join_after_their_recruiter_joined_and_acted(demo):
    joined = dict(Person.objects.values_list("pk", "created_at"))
    first = dict(
        Activity.objects.values("person_id")
        .annotate(first=Min("created_at"))
        .values_list("person_id", "first")
    )
    edges = list(Recruitment.objects.values_list("recruiter_id", "recruit_id", "created_at"))
    assert len(edges) > PEOPLE // 5
    wrong = [
        (recruiter, recruit)
        for recruiter, recruit, at in edges
        if not joined[recruiter] <= first[recruiter] <= joined[recruit] <= at
    ]
    assert wrong == []


def test_demo_rsvps_come_after_posting_and_before_the_start(demo):
    rsvps = Rsvp.objects.all()
    assert rsvps.count() > 500
    assert not rsvps.filter(created_at__gte=F("event__starts_at")).exists()
    assert not rsvps.filter(created_at__lt=F("event__created_at")).exists()
    joined = dict(Person.objects.values_list("pk", "created_at"))
    assert [
        r
        for r in rsvps.values("person_id", "created_at")
        if r["created_at"] < joined[r["person_id"]]
    ] == []
    attended = rsvps.filter(attended=True)
    assert attended.exists()
    assert not attended.exclude(
        checked_in_at__gte=F("event__starts_at"), checked_in_at__lte=F("event__ends_at")
    ).exists()
    assert not attended.filter(event__status="cancelled").exists()
    attends = Activity.objects.filter(kind="attend").values_list("created_at", flat=True)
    assert sorted(attends) == sorted(attended.values_list("checked_in_at", flat=True))
    # First come, first served: nobody waits for a place someone later got (for an event with
    # shifts, a place in that shift).
    waiting = Event.objects.filter(rsvps__status=RsvpStatus.WAITLISTED, shifts=None).distinct()
    for event in waiting:
        first_waiting = event.rsvps.filter(status=RsvpStatus.WAITLISTED).earliest("created_at")
        later_going = event.rsvps.filter(
            status=RsvpStatus.ACCEPTED, created_at__gt=first_waiting.created_at
        )
        assert all(r.guests < first_waiting.guests for r in later_going)
    for shift in Shift.objects.filter(signups__status=RsvpStatus.WAITLISTED).distinct():
        first_waiting = shift.signups.filter(status=RsvpStatus.WAITLISTED).earliest("created_at")
        later_going = shift.signups.filter(
            status=RsvpStatus.ACCEPTED, created_at__gt=first_waiting.created_at
        ).select_related("rsvp")
        assert all(s.rsvp.guests < first_waiting.rsvp.guests for s in later_going)


def test_demo_group_joins_come_after_the_group_began_and_the_person_joined(demo):
    memberships = Membership.objects.select_related("person", "group")
    assert memberships.count() > 100
    assert not memberships.filter(created_at__lt=F("group__created_at")).exists()
    assert not memberships.filter(created_at__lt=F("person__created_at")).exists()
    joins = Activity.objects.filter(kind="group_join")
    assert sorted(joins.values_list("created_at", flat=True)) == sorted(
        memberships.filter(status="active", group__status="active").values_list(
            "created_at", flat=True
        )
    )
    assert not Announcement.objects.filter(created_at__lt=F("group__created_at")).exists()
    for event in Event.objects.exclude(group=None).select_related("group"):
        assert event.created_at >= event.group.created_at


def test_demo_hosts_leaders_and_authors_have_real_names(demo):
    people = Person.objects.in_bulk()
    hosts = EventHost.objects.values_list("person_id", flat=True)
    leaders = Membership.objects.filter(role=MemberRole.LEADER).values_list("person_id", flat=True)
    authors = Announcement.objects.values_list("author_id", flat=True)
    named = {people[pk].public_name for pk in [*hosts, *leaders, *authors]}
    assert "Someone" not in named
    assert len(named) > 50
    assert not set(hosts) & demo.duplicates
    assert set(Event.objects.values_list("contact_name", flat=True)) <= named
    # Everyone who may stay anonymous still does, elsewhere.
    assert any(not p.public_display for p in people.values())


def test_demo_announcements_differ_within_each_group(demo):
    titles = Counter(Announcement.objects.values_list("group_id", "title"))
    bodies = Counter(Announcement.objects.values_list("group_id", "body"))
    assert Announcement.objects.count() > 20
    assert max(titles.values()) == 1
    assert max(bodies.values()) == 1


def test_demo_duplicates_are_few_and_each_one_deliberate(demo):
    assert len(demo.duplicates) == 8
    counts = {kind: duplicate_group_count(kind) for kind in ("phone", "name", "email")}
    assert counts == {"phone": 4, "name": 2, "email": 2}
    for kind in counts:
        for group in duplicate_groups(kind, limit=50):
            ids = {p.pk for p in group.people}
            # One original and the record that repeats it, the original kept.
            assert len(ids) == 2
            assert len(ids & demo.duplicates) == 1
            assert group.keep.pk not in demo.duplicates
            names = {(p.given_name[:3], p.family_name) for p in group.people}
            assert len(names) == 1, group.key
    typos = [g.key for g in duplicate_groups("email")]
    assert all("@gmail.com" in key for key in typos)


def test_demo_has_a_canvass_in_shifts_one_full_with_a_waitlist(demo):
    canvass = Event.objects.filter(shifts__isnull=False).distinct().get()
    assert canvass.title.startswith("Saturday canvass in ")
    assert canvass.local_start.strftime("%A %H:%M") == "Saturday 09:00"
    assert 4 < (canvass.starts_at - TODAY).days < 12
    shifts = list(canvass.shifts.all())
    assert [(s.local_start.hour, s.local_end.hour) for s in shifts] == [(9, 11), (11, 13), (13, 15)]
    # Each shift's count is what its places say, and never over its capacity.
    for shift in shifts:
        going = shift.signups.filter(status=RsvpStatus.ACCEPTED).select_related("rsvp")
        assert shift.seats_taken == sum(s.rsvp.seats for s in going)
        assert shift.capacity is None or shift.seats_taken <= shift.capacity
    morning, midday, afternoon = shifts
    assert morning.is_full and morning.signups.filter(status=RsvpStatus.WAITLISTED).exists()
    assert midday.is_full and not midday.waitlist_enabled
    assert not midday.signups.filter(status=RsvpStatus.WAITLISTED).exists()
    assert not afternoon.is_full
    # An RSVP is going when it has a place in a shift, and counts once for the event.
    rsvps = list(canvass.rsvps.all())
    for rsvp in rsvps:
        statuses = set(rsvp.shift_signups.values_list("status", flat=True))
        expected = RsvpStatus.ACCEPTED if RsvpStatus.ACCEPTED in statuses else "waitlisted"
        assert rsvp.status == expected
    going = [r for r in rsvps if r.status == RsvpStatus.ACCEPTED]
    assert canvass.seats_taken == sum(r.seats for r in going)
    assert any(r.status == RsvpStatus.WAITLISTED for r in rsvps)
    acts = Activity.objects.filter(kind="rsvp", target_id=str(canvass.pk))
    assert sorted(acts.values_list("person_id", flat=True)) == sorted(r.person_id for r in going)
    assert not ShiftSignup.objects.filter(
        rsvp__event=canvass, created_at__lt=F("rsvp__created_at")
    ).exists()


def test_demo_has_a_weekly_phone_bank_series_around_today(demo):
    nights = list(Event.objects.filter(series__isnull=False).order_by("starts_at"))
    assert len(nights) == PHONE_BANK_WEEKS_PAST + PHONE_BANK_WEEKS_AHEAD
    assert len({e.series_id for e in nights}) == 1
    assert nights[0].series.frequency == "weekly"
    assert {e.title for e in nights} == {"Phone bank night"}
    starts = [e.local_start for e in nights]
    assert {(s.weekday(), s.hour) for s in starts} == {(starts[0].weekday(), 18)}
    assert starts[0].weekday() in (1, 2, 3)
    assert [(b - a).days for a, b in zip(starts, starts[1:], strict=False)] == [7] * 5
    held = [e for e in nights if e.ends_at < TODAY]
    assert len(held) == PHONE_BANK_WEEKS_PAST
    assert all(e.starts_at > TODAY for e in nights[PHONE_BANK_WEEKS_PAST:])
    # Posted together before the first evening; each evening with its own RSVPs.
    assert len({e.created_at for e in nights}) == 1
    assert nights[0].created_at < nights[0].starts_at
    assert all(e.rsvps.exists() for e in nights)
    assert all(e.host_credited_at is not None for e in held)
