"""Demo events: a few hundred upcoming and past events of every type, hosted by demo supporters
at their own postal codes, with RSVPs from people nearby (some full, some with waitlists),
check-ins at past events and host credit. Every RSVP's act goes through activity_record."""

from collections import defaultdict
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import zipcodes
from django.utils import timezone

from rallypoint.ledger.services import activity_record
from rallypoint.people.models import Person, PostalAddress
from rallypoint.people.referral import Referral

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
TITLES = {
    EventType.HOUSE_PARTY: ["Kitchen-table kickoff", "Backyard house party", "Potluck and plan"],
    EventType.CANVASS: ["Saturday canvass", "Neighborhood door-knock", "Weekend canvass launch"],
    EventType.PHONE_BANK: ["Phone bank night", "Call-a-thon", "Evening phone bank"],
    EventType.RALLY: ["Rally for our schools", "Town square rally", "Community march"],
    EventType.MEETING: ["Volunteer meeting", "Team check-in", "Organizing meeting"],
    EventType.FUNDRAISER: ["Fundraiser dinner", "Small-dollar brunch", "Benefit concert"],
    EventType.TRAINING: ["Canvass training", "Host training", "Data and tools training"],
    EventType.OTHER: ["Sign-making party", "Voter registration table", "Community picnic"],
}
VENUES = ["Community center", "Public library", "Union hall", "Coffee shop", "Backyard", "Park"]
COMMENTS = ["Bringing snacks!", "Can't wait.", "First time volunteering.", "Can I bring my kid?"]


def _zone(postal_code: str, cache: dict) -> str:
    if postal_code not in cache:
        match = zipcodes.matching(postal_code) if postal_code.isdigit() else []
        cache[postal_code] = (match[0].get("timezone") if match else "") or "America/New_York"
    return cache[postal_code]


def build(ctx) -> None:
    rng, now = ctx.rng, timezone.now()
    people_ids = ctx.data.get("people_ids") or []
    if not people_ids:
        ctx.log("No demo people: skipping events.")
        return
    campaign = ctx.data.get("campaign")
    addresses = list(
        PostalAddress.objects.filter(
            person_id__in=people_ids, primary=True, latitude__isnull=False
        ).values("person_id", "postal_code", "locality", "region", "latitude", "longitude")
    )
    nearby = defaultdict(list)
    for row in addresses:
        nearby[row["postal_code"][:3]].append(row["person_id"])
    zones: dict[str, str] = {}
    events, hosts = [], []
    for i in range(UPCOMING + PAST):
        past = i >= UPCOMING
        home = rng.choice(addresses)
        kind = rng.choice(EventType.values)
        mode = rng.choices(
            [LocationMode.IN_PERSON, LocationMode.VIRTUAL, LocationMode.HYBRID], [75, 15, 10]
        )[0]
        zone_name = _zone(home["postal_code"], zones)
        day = (now + timedelta(days=-rng.randint(1, 45) if past else rng.randint(0, 60))).date()
        start = datetime.combine(
            day, time(rng.randint(10, 19), rng.choice([0, 30])), ZoneInfo(zone_name)
        )
        if not past and start <= now:
            start += timedelta(days=1)
        in_person = mode != LocationMode.VIRTUAL
        capacity = rng.choice([None, None, 8, 10, 12, 15, 20, 25, 30, 50])
        events.append(
            Event(
                title=rng.choice(TITLES[kind]) + (f" in {home['locality']}" if in_person else ""),
                event_type=kind,
                description="Join neighbours who care about the same things you do. "
                "No experience needed: we'll show you everything when you arrive.",
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
                approval=Approval.PENDING
                if not past and rng.random() < 0.04
                else Approval.APPROVED,
                instructions="Park on the street; ring the bell by the side door.",
                campaign=campaign if campaign is not None and rng.random() < 0.75 else None,
                contact_name="Demo host",
            )
        )
        hosts.append(home["person_id"])
    Event.objects.bulk_create(events, batch_size=500)
    EventHost.objects.bulk_create(
        [
            EventHost(event=e, person_id=p, role=HostRole.HOST)
            for e, p in zip(events, hosts, strict=True)
        ]
    )
    share_codes = dict(Person.objects.filter(pk__in=people_ids).values_list("pk", "share_code"))
    rsvp_count = full = waitlisted = 0
    for event, host_id in zip(events, hosts, strict=True):
        if event.approval != Approval.APPROVED:
            continue
        pool = [p for p in nearby[event.postal_code[:3]] if p != host_id] or people_ids
        if event.capacity is not None and rng.random() < 0.25:
            wanted = event.capacity + rng.randint(0, 3)  # full, often with a waitlist
        else:
            wanted = rng.randint(0, min(len(pool), event.capacity or 30, 30))
        attendees = rng.sample(pool, k=min(wanted, len(pool)))
        taken, rows = 0, []
        for person_id in attendees:
            guests = rng.choice([0, 0, 0, 0, 0, 1, 1, 2])
            fits = event.capacity is None or taken + 1 + guests <= event.capacity
            if not fits and not event.waitlist_enabled:
                continue
            status = RsvpStatus.ACCEPTED if fits else RsvpStatus.WAITLISTED
            taken += (1 + guests) if fits else 0
            attended = fits and event.ends_at < now and rng.random() < 0.7
            rows.append(
                Rsvp(
                    event=event,
                    person_id=person_id,
                    status=status,
                    guests=guests,
                    comment=rng.choice(COMMENTS) if rng.random() < 0.2 else "",
                    attended=attended,
                    checked_in_at=event.starts_at if attended else None,
                    source="demo",
                )
            )
        Rsvp.objects.bulk_create(rows)
        event.seats_taken = taken
        full += event.is_full
        rsvp_count += len(rows)
        at = min(event.starts_at - timedelta(days=1), now)
        for rsvp in rows:
            waitlisted += rsvp.status == RsvpStatus.WAITLISTED
            if rsvp.status != RsvpStatus.ACCEPTED:
                continue
            referral = None
            if rng.random() < 0.3:
                referral = Referral(
                    code=share_codes[host_id], channel=rng.choice(["email", "whatsapp", "sms"])
                )
            activity_record(
                person=Person(pk=rsvp.person_id),
                kind="rsvp",
                campaign=event.campaign,
                target=event,
                referral=referral,
                details={"rsvp": rsvp.pk, "guests": rsvp.guests},
                at=at,
            )
            if rsvp.attended:
                activity_record(
                    person=Person(pk=rsvp.person_id),
                    kind="attend",
                    campaign=event.campaign,
                    target=event,
                    details={"rsvp": rsvp.pk},
                    at=event.starts_at,
                )
        if event.ends_at < now and event.status != EventStatus.CANCELLED:
            activity_record(
                person=Person(pk=host_id),
                kind="host",
                campaign=event.campaign,
                target=event,
                details={"role": "host"},
                at=event.ends_at,
            )
            event.host_credited_at = event.ends_at
    Event.objects.bulk_update(events, ["seats_taken", "host_credited_at"], batch_size=500)
    ctx.data["event_ids"] = [e.pk for e in events]
    ctx.log(
        f"Created {len(events):,} demo events ({UPCOMING} upcoming, {PAST} past) with "
        f"{rsvp_count:,} RSVPs; {full} full, {waitlisted} people on waitlists."
    )
