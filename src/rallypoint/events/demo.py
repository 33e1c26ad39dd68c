"""Demo events: a few hundred upcoming and past events of every type, hosted by demo supporters
at their own postal codes, with RSVPs from people nearby (some full, some with waitlists),
check-ins at past events and host credit. Every RSVP's act goes through activities_record.

Beside them, a Saturday canvass in shifts (one full with a waitlist, one full without) and a
weekly phone bank night series (demo_showcase).

All dated from ctx.now, and coherent: a title fits its day and hour (a Saturday canvass is on a
Saturday, a phone bank night in the evening); the host has a public name and had joined before
posting the event; people RSVP after they joined and the event was posted, before it starts,
first come first served (the late ones wait); check-ins are at the event."""

from collections import defaultdict
from datetime import datetime, time, timedelta
from itertools import chain
from zoneinfo import ZoneInfo

import zipcodes

from rallypoint.core.demo_support import moment
from rallypoint.ledger.services import ActToRecord, activities_record
from rallypoint.people.demo import load_people
from rallypoint.people.models import Person, PostalAddress
from rallypoint.people.referral import Referral

from .demo_showcase import canvass_rsvps, canvass_shifts, showcase_events, signups_write
from .models import (
    Approval,
    Event,
    EventHost,
    EventStatus,
    EventType,
    HostRole,
    LocationMode,
    Rsvp,
    RsvpStatus,
    Visibility,
)

UPCOMING, PAST = 240, 80
WEEKDAYS, WEEKEND, ANY_DAY = (0, 1, 2, 3, 4), (5, 6), (0, 1, 2, 3, 4, 5, 6)
EVENINGS = (18, 19)
# (title, the days of the week it falls on (Monday = 0), its start hours); "{day}" is the
# name of the day.
TITLES = {
    EventType.HOUSE_PARTY: [
        ("Kitchen-table kickoff", ANY_DAY, EVENINGS),
        ("Backyard house party", WEEKEND, (14, 15, 16)),
        ("Potluck and plan", ANY_DAY, (17, 18)),
    ],
    EventType.CANVASS: [
        ("{day} canvass", WEEKEND, (9, 10)),
        ("Neighborhood door-knock", ANY_DAY, (10, 16)),
        ("Weekend canvass launch", WEEKEND, (9, 10)),
    ],
    EventType.PHONE_BANK: [
        ("Phone bank night", WEEKDAYS, EVENINGS),
        ("{day} call-a-thon", WEEKEND, (12, 13, 14)),
        ("Evening phone bank", WEEKDAYS, EVENINGS),
    ],
    EventType.RALLY: [
        ("Rally for our schools", ANY_DAY, (11, 12, 17)),
        ("Town square rally", WEEKEND, (11, 12)),
        ("Community march", WEEKEND, (10, 11)),
    ],
    EventType.MEETING: [
        ("Volunteer meeting", WEEKDAYS, EVENINGS),
        ("Lunchtime team check-in", WEEKDAYS, (12,)),
        ("Organizing meeting", ANY_DAY, EVENINGS),
    ],
    EventType.FUNDRAISER: [
        ("Fundraiser dinner", ANY_DAY, EVENINGS),
        ("Small-dollar brunch", WEEKEND, (10, 11)),
        ("Benefit concert", (4, 5), (19, 20)),
    ],
    EventType.TRAINING: [
        ("Canvass training", WEEKEND, (10, 13)),
        ("Host training", WEEKDAYS, EVENINGS),
        ("Data and tools training", WEEKDAYS, EVENINGS),
    ],
    EventType.OTHER: [
        ("Sign-making party", ANY_DAY, (15, 16, 18)),
        ("Voter registration table", WEEKEND, (10, 11, 12)),
        ("Community picnic", WEEKEND, (12, 13)),
    ],
}
VENUES = ["Community center", "Public library", "Union hall", "Coffee shop", "Backyard", "Park"]
COMMENTS = ["Bringing snacks!", "Can't wait.", "First time volunteering.", "Can I bring my kid?"]


def _zone(postal_code: str, cache: dict) -> str:
    if postal_code not in cache:
        match = zipcodes.matching(postal_code) if postal_code.isdigit() else []
        cache[postal_code] = (match[0].get("timezone") if match else "") or "America/New_York"
    return cache[postal_code]


def _when(rng, now: datetime, zone: ZoneInfo, days, hours, *, past: bool) -> datetime:
    """A start on one of `days` at one of `hours` (local time): up to 45 days ago for a past
    event, which has ended by `now`; up to two months ahead for an upcoming one."""
    today = now.astimezone(zone).date()
    day = today + timedelta(days=-rng.randint(1, 45) if past else rng.randint(0, 60))
    step = timedelta(days=-1 if past else 1)
    while day.weekday() not in days:
        day += step
    start = datetime.combine(day, time(rng.choice(hours), rng.choice([0, 30])), zone)
    # A week earlier or later keeps the day of the week.
    while past and start + timedelta(hours=3) >= now:
        start -= timedelta(days=7)
    while not past and start <= now:
        start += timedelta(days=7)
    return start


def build(ctx) -> None:
    rng, cal, now = ctx.rng, ctx.calendar, ctx.now
    people_ids = ctx.data.get("people_ids") or []
    if not people_ids:
        ctx.log("No demo people: skipping events.")
        return
    load_people(ctx, people_ids)
    joined = ctx.joined
    campaign = ctx.data.get("campaign")
    # Acts already written: someone following a host's link recruits nobody if they acted in
    # the campaign before (activities_record only reads what is stored).
    acted_before = dict(ctx.first_acts)
    addresses = list(
        PostalAddress.objects.filter(
            person_id__in=people_ids, primary=True, latitude__isnull=False
        ).values("person_id", "postal_code", "locality", "region", "latitude", "longitude")
    )
    nearby = defaultdict(list)
    for row in addresses:
        nearby[row["postal_code"][:3]].append(row["person_id"])
    homes = [row for row in addresses if ctx.can_lead(row["person_id"])] or addresses
    veteran = min(homes, key=lambda row: joined[row["person_id"]])  # when nobody else can
    zones: dict[str, str] = {}
    events, hosts = [], []
    for i in range(UPCOMING + PAST):
        past = i >= UPCOMING
        kind = rng.choice(EventType.values)
        title, days, hours = rng.choice(TITLES[kind])
        mode = rng.choices(
            [LocationMode.IN_PERSON, LocationMode.VIRTUAL, LocationMode.HYBRID], [75, 15, 10]
        )[0]
        in_campaign = campaign is not None and rng.random() < 0.75
        pending = not past and rng.random() < 0.04  # waiting for an organizer: posted lately
        # A host who had joined (and, for the campaign, the campaign had begun) before posting
        # it, at least a day ahead.
        for home in chain((rng.choice(homes) for _ in range(50)), [veteran]):
            zone_name = _zone(home["postal_code"], zones)
            start = _when(rng, now, ZoneInfo(zone_name), days, hours, past=past)
            posted_by = min(start - timedelta(days=1), now - timedelta(hours=1))
            earliest = max(start - timedelta(days=28), joined[home["person_id"]])
            if in_campaign:
                earliest = max(earliest, cal.campaign_start)
            if pending:
                earliest = max(earliest, now - timedelta(days=3))
            if earliest <= posted_by:
                break
        in_person = mode != LocationMode.VIRTUAL
        local_start = start.astimezone(ZoneInfo(zone_name))
        title = title.format(day=f"{local_start:%A}")
        capacity = rng.choice([None, None, 8, 10, 12, 15, 20, 25, 30, 50])
        event = Event(
            title=title + (f" in {home['locality']}" if in_person else ""),
            event_type=kind,
            description="<p>Join neighbours who care about the same things you do. "
            "No experience needed: we'll show you everything when you arrive.</p>",
            location_mode=mode,
            venue=rng.choice(VENUES) if in_person else "",
            address_line=f"{rng.randint(10, 999)} Main St" if in_person else "",
            locality=home["locality"] if in_person else "",
            region=home["region"] if in_person else "",
            postal_code=home["postal_code"] if in_person else "",
            latitude=home["latitude"] if in_person else None,
            longitude=home["longitude"] if in_person else None,
            join_url="https://meet.example.org/" + f"demo-{i}"
            if mode != LocationMode.IN_PERSON
            else "",
            starts_at=start,
            ends_at=start + timedelta(hours=rng.choice([1, 1.5, 2, 2, 3])),
            timezone=zone_name,
            capacity=capacity,
            waitlist_enabled=rng.random() < 0.85,
            visibility=rng.choices(
                [Visibility.PUBLIC, Visibility.UNLISTED, Visibility.PRIVATE], [90, 7, 3]
            )[0],
            status=rng.choices(
                [EventStatus.CONFIRMED, EventStatus.TENTATIVE, EventStatus.CANCELLED],
                [88, 8, 4],
            )[0],
            approval=Approval.PENDING if pending else Approval.APPROVED,
            instructions="Park on the street; ring the bell by the side door.",
            campaign=campaign if in_campaign else None,
            contact_name=ctx.public_names.get(home["person_id"], ""),
        )
        event.created_at = moment(rng, earliest, posted_by)
        events.append(event)
        hosts.append(home["person_id"])
    # A canvass in shifts and a weekly phone bank (demo_showcase): written with the others.
    show = showcase_events(ctx, homes, lambda code: _zone(code, zones))
    events += show.events
    hosts += show.hosts
    posted = [event.created_at for event in events]
    Event.objects.bulk_create(events, batch_size=500)
    for event, created in zip(events, posted, strict=True):
        event.created_at = created
    EventHost.objects.bulk_create(
        [
            EventHost(event=e, person_id=p, role=HostRole.HOST)
            for e, p in zip(events, hosts, strict=True)
        ]
    )
    share_codes = dict(Person.objects.filter(pk__in=people_ids).values_list("pk", "share_code"))
    rsvps: list[Rsvp] = []
    places: list = []  # the canvass's places in shifts, written once the RSVPs have ids
    for event, host_id in zip(events, hosts, strict=True):
        if event.approval != Approval.APPROVED:
            continue
        last_call = min(event.starts_at - timedelta(hours=1), now)
        pool = [
            p
            for p in nearby[event.postal_code[:3]] or people_ids
            if p != host_id and joined[p] < last_call
        ]
        if event in show.events and len(pool) < 40:
            # The showcase canvass and phone bank draw people from further away too.
            near = set(pool)
            pool += [
                p for p in people_ids if p != host_id and p not in near and joined[p] < last_call
            ][:200]
        if event is show.canvass:
            shift_rsvps, places = canvass_rsvps(ctx, event, canvass_shifts(event), pool)
            rsvps += shift_rsvps
            continue
        if event.capacity is not None and rng.random() < 0.25:
            wanted = event.capacity + rng.randint(0, 3)  # full, often with a waitlist
        else:
            wanted = rng.randint(0, min(len(pool), event.capacity or 30, 30))
        if event.series is not None:  # the weekly phone bank has its regulars
            wanted = max(wanted, 6)
        attendees = rng.sample(pool, k=min(wanted, len(pool)))
        when = {
            p: moment(rng, max(joined[p], event.created_at), last_call, lean=0.5) for p in attendees
        }
        attendees.sort(key=when.__getitem__)  # first come, first served
        taken = 0
        ended = event.ends_at < now and event.status != EventStatus.CANCELLED
        for person_id in attendees:
            guests = rng.choice([0, 0, 0, 0, 0, 1, 1, 2])
            fits = event.capacity is None or taken + 1 + guests <= event.capacity
            if not fits and not event.waitlist_enabled:
                continue
            taken += (1 + guests) if fits else 0
            attended = fits and ended and rng.random() < 0.7
            code = channel = ""
            prior = acted_before.get((person_id, event.campaign_id))
            if rng.random() < 0.3 and (
                event.campaign_id is None or (prior and prior < when[person_id])
            ):
                code, channel = share_codes[host_id], rng.choice(["email", "whatsapp", "sms"])
            rsvp = Rsvp(
                event=event,
                person_id=person_id,
                status=RsvpStatus.ACCEPTED if fits else RsvpStatus.WAITLISTED,
                guests=guests,
                comment=rng.choice(COMMENTS) if rng.random() < 0.2 else "",
                attended=attended,
                checked_in_at=event.starts_at + timedelta(minutes=rng.randint(0, 20))
                if attended
                else None,
                source="demo",
                referral_code=code,
                referral_channel=channel,
            )
            rsvp.created_at = when[person_id]
            rsvps.append(rsvp)
        event.seats_taken = taken
    answered = [rsvp.created_at for rsvp in rsvps]
    Rsvp.objects.bulk_create(rsvps, batch_size=500)
    for rsvp, at in zip(rsvps, answered, strict=True):
        rsvp.created_at = at
    Rsvp.objects.bulk_update(rsvps, ["created_at"], batch_size=500)
    signups_write(places)
    acts = []
    host_of = dict(zip((e.pk for e in events), hosts, strict=True))
    for rsvp in rsvps:
        if rsvp.status != RsvpStatus.ACCEPTED:
            continue
        event = rsvp.event
        referral = None
        if rsvp.referral_code:
            referral = Referral(code=rsvp.referral_code, channel=rsvp.referral_channel)
        acts.append(
            ActToRecord(
                person=Person(pk=rsvp.person_id),
                kind="rsvp",
                at=rsvp.created_at,
                campaign=event.campaign,
                target=event,
                referral=referral,
                referrer=Person(pk=host_of[event.pk]) if referral else None,
                details={"rsvp": rsvp.pk, "guests": rsvp.guests},
            )
        )
        if rsvp.attended and rsvp.checked_in_at:
            acts.append(
                ActToRecord(
                    person=Person(pk=rsvp.person_id),
                    kind="attend",
                    at=rsvp.checked_in_at,
                    campaign=event.campaign,
                    target=event,
                    details={"rsvp": rsvp.pk},
                )
            )
    for event, host_id in zip(events, hosts, strict=True):
        if event.ends_at < now and event.status != EventStatus.CANCELLED:
            acts.append(
                ActToRecord(
                    person=Person(pk=host_id),
                    kind="host",
                    at=event.ends_at,
                    campaign=event.campaign,
                    target=event,
                    details={"role": "host"},
                )
            )
            event.host_credited_at = event.ends_at
    for act in acts:
        ctx.acted(act.person.pk, act.at, act.campaign.pk if act.campaign else None)
    activities_record(acts)
    Event.objects.bulk_update(
        events, ["seats_taken", "host_credited_at", "created_at"], batch_size=500
    )
    # Groups take on some of the ordinary events (groups/demo.py), not the showcase ones.
    ctx.data["events"] = [e for e in events if e not in show.events]
    ctx.data["event_ids"] = [e.pk for e in events]
    full = sum(event.is_full for event in events)
    waitlisted = sum(rsvp.status == RsvpStatus.WAITLISTED for rsvp in rsvps)
    ctx.log(
        f"Created {len(events):,} demo events ({UPCOMING} upcoming, {PAST} past, and "
        f"{len(show.events)} to show shifts and a weekly series) with {len(rsvps):,} RSVPs; "
        f"{full} full, {waitlisted} people on waitlists."
    )
