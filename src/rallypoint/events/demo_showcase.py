"""Two demo events that show what hosts can do, beside the many ordinary ones (events/demo.py):

- a Saturday canvass split into three shifts: the morning one full with people on its
  waitlist, the midday one full without a waitlist, the afternoon one with places left;
- a weekly phone bank night, a series of six evenings (two already held, four to come), each
  an event of its own with its own RSVPs.

Dated from ctx.now like the rest, on a day and at an hour that fit their titles, hosted by
supporters with a public name who had joined before posting them; people pick shifts first
come, first served."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rallypoint.core.demo_support import moment

from .models import (
    Approval,
    Event,
    EventType,
    LocationMode,
    Repeat,
    Rsvp,
    RsvpStatus,
    Series,
    Shift,
    ShiftSignup,
)

SATURDAY = 5
# The canvass's shifts: (start hour, end hour, places, waitlist).
CANVASS_SHIFTS = [(9, 11, 10, True), (11, 13, 6, False), (13, 15, 20, True)]
CANVASS_PEOPLE = 26
PHONE_BANK_WEEKS_PAST, PHONE_BANK_WEEKS_AHEAD = 2, 4
PHONE_BANK_NIGHTS = (1, 2, 3)  # Tuesday, Wednesday, Thursday
DESCRIPTION = (
    "<p>Join neighbours who care about the same things you do. No experience needed: we'll "
    "show you everything when you arrive.</p>"
)


@dataclass
class Showcase:
    """The showcase events, unsaved, with their hosts (person ids), in the same order."""

    events: list[Event] = field(default_factory=list)
    hosts: list[int] = field(default_factory=list)
    canvass: Event | None = None
    series: Series | None = None


def _at(home: dict, street: str) -> dict:
    """An event's address fields: a street in its host's town."""
    return {
        "address_line": street,
        "locality": home["locality"],
        "region": home["region"],
        "postal_code": home["postal_code"],
        "latitude": home["latitude"],
        "longitude": home["longitude"],
    }


def _first_weekday_after(day: date, weekdays: tuple[int, ...]) -> date:
    day += timedelta(days=1)
    while day.weekday() not in weekdays:
        day += timedelta(days=1)
    return day


def _host(ctx, homes, *, earliest_post: datetime) -> Any:
    """A home (an address row) whose person can lead and had joined by `earliest_post`."""
    for home in ctx.rng.sample(homes, k=min(len(homes), 60)):
        if ctx.can_lead(home["person_id"]) and ctx.joined[home["person_id"]] <= earliest_post:
            return home
    return None


def showcase_events(ctx, homes: list[Any], zone_of) -> Showcase:
    """The canvass with shifts and the phone bank series (unsaved; the series row is saved).
    `zone_of(postal_code)` is the time zone's name."""
    rng, now, cal = ctx.rng, ctx.now, ctx.calendar
    campaign = ctx.data.get("campaign")
    show = Showcase()
    # The canvass: a Saturday between 5 and 11 days from now, posted two to three weeks ago.
    home = _host(ctx, homes, earliest_post=now - timedelta(days=21))
    if home is not None:
        zone = ZoneInfo(zone_of(home["postal_code"]))
        day = _first_weekday_after(now.astimezone(zone).date() + timedelta(days=4), (SATURDAY,))
        start = datetime.combine(day, time(9), zone)
        posted = moment(
            rng,
            max(now - timedelta(days=21), ctx.joined[home["person_id"]], cal.campaign_start),
            now - timedelta(days=14),
        )
        canvass = Event(
            title=f"Saturday canvass in {home['locality']}",
            event_type=EventType.CANVASS,
            description=DESCRIPTION
            + "<p>Pick a shift, or two: we knock on doors in pairs, two hours at a time.</p>",
            venue="Community center",
            **_at(home, f"{rng.randint(10, 999)} Main St"),
            starts_at=start,
            ends_at=start + timedelta(hours=6),
            timezone=zone.key,
            instructions="Meet at the side entrance; clipboards and water are on us.",
            campaign=campaign,
            contact_name=ctx.public_names.get(home["person_id"], ""),
            approval=Approval.APPROVED,
        )
        canvass.created_at = posted
        show.canvass = canvass
        show.events.append(canvass)
        show.hosts.append(home["person_id"])
    # The phone bank: weekly on a weeknight that isn't today (so no evening is under way),
    # two evenings held and four to come, all posted together before the first.
    home = _host(ctx, homes, earliest_post=now - timedelta(days=7 * 5))
    if home is not None:
        zone = ZoneInfo(zone_of(home["postal_code"]))
        today = now.astimezone(zone).date()
        nights = tuple(d for d in PHONE_BANK_NIGHTS if d != today.weekday())
        next_night = _first_weekday_after(today, nights[:1])
        first = next_night - timedelta(weeks=PHONE_BANK_WEEKS_PAST)
        posted = moment(
            rng,
            max(
                datetime.combine(first, time(12), zone) - timedelta(days=14),
                ctx.joined[home["person_id"]],
                cal.campaign_start,
            ),
            datetime.combine(first, time(12), zone) - timedelta(days=3),
        )
        show.series = Series.objects.create(frequency=Repeat.WEEKLY)
        for week in range(PHONE_BANK_WEEKS_PAST + PHONE_BANK_WEEKS_AHEAD):
            start = datetime.combine(first + timedelta(weeks=week), time(18), zone)
            night = Event(
                title="Phone bank night",
                event_type=EventType.PHONE_BANK,
                description=DESCRIPTION
                + "<p>Bring a charged phone and headphones; we bring the call list.</p>",
                location_mode=LocationMode.HYBRID,
                venue="Union hall",
                **_at(home, f"{rng.randint(10, 999)} Union St"),
                join_url="https://meet.example.org/phone-bank-night",
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                timezone=zone.key,
                capacity=15,
                instructions="Pizza at 6. Sign in with the host at the door.",
                campaign=campaign,
                contact_name=ctx.public_names.get(home["person_id"], ""),
                series=show.series,
                approval=Approval.APPROVED,
            )
            night.created_at = posted
            show.events.append(night)
            show.hosts.append(home["person_id"])
    return show


def canvass_shifts(canvass: Event) -> list[Shift]:
    """The canvass's shifts (saved), in time order."""
    zone = ZoneInfo(canvass.timezone)
    day = canvass.starts_at.astimezone(zone).date()
    shifts = [
        Shift(
            event=canvass,
            starts_at=datetime.combine(day, time(start), zone),
            ends_at=datetime.combine(day, time(end), zone),
            capacity=places,
            waitlist_enabled=waitlist,
        )
        for start, end, places, waitlist in CANVASS_SHIFTS
    ]
    return Shift.objects.bulk_create(shifts)


def canvass_rsvps(
    ctx, canvass: Event, shifts: list[Shift], pool: list[int]
) -> tuple[list[Rsvp], list[tuple[Rsvp, Shift, str]]]:
    """People RSVP to the canvass in the order they came, each picking one or two shifts: a
    place while a shift has room, then its waitlist (a full shift without one can't be
    picked). Returns the RSVPs (unsaved, `created_at` set) and their places in shifts. The
    seat counts of the canvass and its shifts are set on them."""
    rng, now = ctx.rng, ctx.now
    chosen = rng.sample(pool, k=min(CANVASS_PEOPLE, len(pool)))
    when = {p: moment(rng, max(ctx.joined[p], canvass.created_at), now, lean=0.6) for p in chosen}
    chosen.sort(key=when.__getitem__)
    morning, midday, afternoon = shifts
    rsvps: list[Rsvp] = []
    places: list[tuple[Rsvp, Shift, str]] = []
    for i, person_id in enumerate(chosen):
        # Most want the morning, some the middle of the day, fewer the afternoon.
        wanted = [morning] if i % 4 != 3 else []
        if i % 3 == 0 or not wanted:
            wanted.append(midday)
        if i % 3 == 1:
            wanted.append(afternoon)
        guests = rng.choice([0, 0, 0, 0, 1])
        seats = 1 + guests
        mine = []
        for shift in wanted:
            if shift.capacity is None or shift.seats_taken + seats <= shift.capacity:
                shift.seats_taken += seats
                mine.append((shift, RsvpStatus.ACCEPTED))
            elif shift.waitlist_enabled:
                mine.append((shift, RsvpStatus.WAITLISTED))
        if not mine:
            continue  # every shift they wanted was full: they didn't RSVP
        going = any(status == RsvpStatus.ACCEPTED for _, status in mine)
        rsvp = Rsvp(
            event=canvass,
            person_id=person_id,
            status=RsvpStatus.ACCEPTED if going else RsvpStatus.WAITLISTED,
            guests=guests,
            source="demo",
        )
        rsvp.created_at = when[person_id]
        if going:
            canvass.seats_taken += seats
        rsvps.append(rsvp)
        places.extend((rsvp, shift, status) for shift, status in mine)
    return rsvps, places


def signups_write(places: list[tuple[Rsvp, Shift, str]]) -> None:
    """The places in shifts of RSVPs already saved, each dated as its RSVP; and the shifts'
    seat counts."""
    ShiftSignup.objects.bulk_create(
        [
            ShiftSignup(rsvp=rsvp, shift=shift, status=status, created_at=rsvp.created_at)
            for rsvp, shift, status in places
        ]
    )
    shifts = {shift.pk: shift for _, shift, _ in places}
    Shift.objects.bulk_update(list(shifts.values()), ["seats_taken"])
