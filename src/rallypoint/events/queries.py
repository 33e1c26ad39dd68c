"""Reads for events, with their joins built in. The website, the API and the feeds use these."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import zipcodes
from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from rallypoint.core.geo import Place, bounding_box, lookup_postal_code
from rallypoint.people.models import EmailAddress, Person, PhoneNumber

from .geoquery import distance_km, within_radius
from .models import (
    Approval,
    Event,
    EventHost,
    EventStatus,
    EventTemplate,
    LocationMode,
    Rsvp,
    RsvpStatus,
    Shift,
    ShiftSignup,
    Visibility,
)
from .services.events import MAX_DURATION


def listed_events() -> QuerySet[Event]:
    """Events anyone may find: public, approved, not cancelled."""
    return (
        Event.objects.filter(visibility=Visibility.PUBLIC, approval=Approval.APPROVED)
        .exclude(status=EventStatus.CANCELLED)
        .select_related("campaign", "group")
    )


@dataclass
class EventSearch:
    postal_code: str = ""
    radius: float = 25
    unit: str = "mi"  # "mi" or "km"
    date_from: date | None = None
    date_to: date | None = None
    event_type: str = ""
    campaign: object | None = None
    group: object | None = None
    mode: str = "all"  # all | in_person | virtual
    sort: str = ""  # distance | date (default: distance when a place is given)

    @property
    def radius_km(self) -> float:
        return self.radius * 1.609344 if self.unit == "mi" else self.radius


def _zone_of(place: Place | None) -> ZoneInfo:
    if place is not None:
        match = zipcodes.matching(place.postal_code)
        if match and match[0].get("timezone"):
            return ZoneInfo(match[0]["timezone"])
    return ZoneInfo(settings.TIME_ZONE)


def event_search(
    search: EventSearch, *, now: datetime | None = None
) -> tuple[QuerySet[Event], Place | None]:
    """Upcoming listed events matching `search`, with `distance_km` when a place is given.

    In-person events are found through the bounding box of the radius on the indexed
    latitude/longitude, then by exact distance; online events match wherever you are."""
    now = now or timezone.now()
    place = lookup_postal_code(search.postal_code) if search.postal_code else None
    zone = _zone_of(place)
    qs = listed_events()
    start = now
    if search.date_from:
        start = max(now, datetime.combine(search.date_from, time.min, zone))
    if start == now:
        # Still on: ends later than now. Events last at most MAX_DURATION, so the start bound
        # lets the (starts_at, latitude, longitude) index narrow the scan.
        qs = qs.filter(ends_at__gte=now, starts_at__gte=now - MAX_DURATION)
    else:
        qs = qs.filter(starts_at__gte=start)
    if search.date_to:
        qs = qs.filter(
            starts_at__lt=datetime.combine(search.date_to + timedelta(days=1), time.min, zone)
        )
    if search.event_type:
        qs = qs.filter(event_type=search.event_type)
    if search.campaign is not None:
        qs = qs.filter(campaign=search.campaign)
    if search.group is not None:
        qs = qs.filter(group=search.group)
    online = Q(location_mode__in=[LocationMode.VIRTUAL, LocationMode.HYBRID])
    if search.mode == "virtual":
        qs = qs.filter(online)
    elif search.mode == "in_person":
        qs = qs.filter(location_mode__in=[LocationMode.IN_PERSON, LocationMode.HYBRID])
    if place is not None and search.mode != "virtual":
        if search.mode == "in_person":
            qs = within_radius(qs, place.latitude, place.longitude, search.radius_km)
        else:
            # Near me, or online from anywhere.
            min_lat, max_lat, min_lng, max_lng = bounding_box(
                place.latitude, place.longitude, search.radius_km
            )
            near = Q(
                latitude__gte=min_lat,
                latitude__lte=max_lat,
                longitude__gte=min_lng,
                longitude__lte=max_lng,
                distance_km__lte=search.radius_km,
            )
            qs = qs.annotate(distance_km=distance_km(place.latitude, place.longitude)).filter(
                near | Q(location_mode=LocationMode.VIRTUAL)
            )
    sort = search.sort or ("distance" if place is not None and search.mode != "virtual" else "date")
    if sort == "distance" and place is not None and search.mode != "virtual":
        qs = qs.order_by(F("distance_km").asc(nulls_last=True), "starts_at", "id")
    else:
        qs = qs.order_by("starts_at", "id")
    return qs, place


def event_by_uuid(uuid) -> Event | None:
    return (
        Event.objects.select_related("campaign", "group")
        .prefetch_related(
            Prefetch(
                "hosts", queryset=EventHost.objects.select_related("person").order_by("role", "id")
            ),
            "shifts",
            "questions",
        )
        .filter(uuid=uuid)
        .first()
    )


def rsvp_by_uuid(uuid) -> Rsvp | None:
    return (
        Rsvp.objects.select_related("event", "person", "event__campaign").filter(uuid=uuid).first()
    )


def rsvp_of(event: Event, person: Person | None) -> Rsvp | None:
    if person is None:
        return None
    return (
        Rsvp.objects.filter(event=event, person=person)
        .exclude(status=RsvpStatus.CANCELLED)
        .select_related("person")
        .first()
    )


def live_signups() -> Prefetch:
    """An RSVP's places in shifts (going or waiting), soonest first, as `rsvp.live_signups`
    (each shift with its event, for its times in the event's zone)."""
    qs = (
        ShiftSignup.objects.exclude(status=RsvpStatus.CANCELLED)
        .select_related("shift__event")
        .order_by("shift__starts_at", "shift_id")
    )
    return Prefetch("shift_signups", queryset=qs, to_attr="live_signups")


def attendees(
    event: Event,
    *,
    q: str = "",
    statuses: list[str] | None = None,
    shift: Shift | None = None,
) -> QuerySet[Rsvp]:
    """RSVPs with the contact details hosts see and, for an event with shifts, their shifts
    (`rsvp.live_signups`), ordered for a check-in table; with `shift`, those going in that
    shift."""
    statuses = statuses or [RsvpStatus.ACCEPTED, RsvpStatus.WAITLISTED]
    qs = (
        Rsvp.objects.filter(event=event, status__in=statuses)
        .select_related("person")
        .prefetch_related(
            Prefetch(
                "person__email_addresses", queryset=EmailAddress.objects.order_by("-primary", "id")
            ),
            Prefetch(
                "person__phone_numbers", queryset=PhoneNumber.objects.order_by("-primary", "id")
            ),
        )
    )
    if shift is not None or event.shifts.all():  # the shifts come with the event (no query)
        qs = qs.prefetch_related(live_signups())
    if shift is not None:
        qs = qs.filter(shift_signups__shift=shift, shift_signups__status=RsvpStatus.ACCEPTED)
    q = (q or "").strip()
    if q:
        cond = (
            Q(person__given_name__icontains=q)
            | Q(person__family_name__icontains=q)
            | Q(person__email_addresses__address_normalized__icontains=q.lower())
        )
        parts = q.split()
        if len(parts) >= 2:
            cond |= Q(
                person__given_name__icontains=parts[0], person__family_name__icontains=parts[-1]
            )
        qs = qs.filter(cond).distinct()
    return qs.order_by("status", "person__given_name", "person__family_name", "id")


@dataclass(frozen=True)
class ShiftRoster:
    """One shift and its people (RSVPs with their person), for the host's dashboard."""

    shift: Shift
    going: list[Rsvp]
    waiting: list[Rsvp]


def shift_rosters(event: Event) -> list[ShiftRoster]:
    """The event's shifts with who is in each and who waits. One query (the shifts come with
    the event from `event_by_uuid`)."""
    shifts = list(event.shifts.all())
    if not shifts:
        return []
    signups = (
        ShiftSignup.objects.filter(shift__event=event)
        .exclude(status=RsvpStatus.CANCELLED)
        .select_related("rsvp__person")
        .order_by("created_at", "id")
    )
    by_shift: dict[int, list[ShiftSignup]] = {}
    for signup in signups:
        by_shift.setdefault(signup.shift_id, []).append(signup)
    rosters = []
    for shift in shifts:
        mine = by_shift.get(shift.pk, [])
        rosters.append(
            ShiftRoster(
                shift=shift,
                going=[s.rsvp for s in mine if s.status == RsvpStatus.ACCEPTED],
                waiting=[s.rsvp for s in mine if s.status == RsvpStatus.WAITLISTED],
            )
        )
    return rosters


@dataclass(frozen=True)
class SignInGroup:
    """One block of the printable sign-in sheet: a shift (None: the event as a whole, or the
    people going in no shift) and the people going in it, by name."""

    shift: Shift | None
    going: list[Rsvp]


def _by_name(rsvp: Rsvp) -> tuple[str, str]:
    return ((rsvp.person.family_name or "").lower(), (rsvp.person.given_name or "").lower())


def sign_in_groups(event: Event) -> list[SignInGroup]:
    """Who is going, for the sign-in sheet: for an event with shifts, one group per shift (in
    time order; someone in two shifts is on both) and then anyone going in none; otherwise one
    group. A fixed number of queries however many people come."""
    going = sorted(attendees(event, statuses=[RsvpStatus.ACCEPTED]), key=_by_name)
    shifts = list(event.shifts.all())
    if not shifts:
        return [SignInGroup(shift=None, going=going)]
    by_shift: dict[int, list[Rsvp]] = {shift.pk: [] for shift in shifts}
    unplaced = []
    for rsvp in going:
        placed = [
            s.shift_id
            for s in getattr(rsvp, "live_signups", [])
            if s.status == RsvpStatus.ACCEPTED and s.shift_id in by_shift
        ]
        for pk in placed:
            by_shift[pk].append(rsvp)
        if not placed:
            unplaced.append(rsvp)
    groups = [SignInGroup(shift=shift, going=by_shift[shift.pk]) for shift in shifts]
    if unplaced:
        groups.append(SignInGroup(shift=None, going=unplaced))
    return groups


def live_template(slug: str) -> EventTemplate | None:
    """The event template of the live campaign `slug` (a day of action supporters can host
    under), or None."""
    from rallypoint.mission.models import CampaignStatus

    if not slug:
        return None
    return (
        EventTemplate.objects.select_related("campaign")
        .filter(campaign__slug=slug, campaign__status=CampaignStatus.LIVE)
        .first()
    )


def day_of_action(campaign) -> dict | None:
    """What the campaign's events page says of its day of action: the template, how many
    events are planned, and its "host" goals' progress. None without a template."""
    from rallypoint.mission.queries import goals_progress

    template = EventTemplate.objects.filter(campaign=campaign).first()
    if template is None:
        return None
    return {
        "template": template,
        "planned": listed_events().filter(campaign=campaign).count(),
        "goals": goals_progress(list(campaign.goals.filter(kind="host"))),
    }


def series_events(event: Event) -> list[Event]:
    """Every occurrence of the event's series, in order (none when it is not in one)."""
    if event.series_id is None:
        return []
    return list(Event.objects.filter(series_id=event.series_id).order_by("starts_at", "id"))


def rsvp_counts(event: Event) -> dict[str, int]:
    rows = (
        Rsvp.objects.filter(event=event)
        .values("status")
        .annotate(people=Count("id"), attended=Count("id", filter=Q(attended=True)))
    )
    counts = {"accepted": 0, "waitlisted": 0, "cancelled": 0, "attended": 0}
    for row in rows:
        counts[row["status"]] = row["people"]
        counts["attended"] += row["attended"]
    return counts


def events_hosted_by(person: Person | None) -> QuerySet[Event]:
    if person is None:
        return Event.objects.none()
    return (
        Event.objects.filter(hosts__person=person)
        .select_related("campaign", "group")
        .order_by("-starts_at")
    )


def rsvps_of_person(person: Person | None) -> QuerySet[Rsvp]:
    if person is None:
        return Rsvp.objects.none()
    return (
        Rsvp.objects.filter(person=person)
        .exclude(status=RsvpStatus.CANCELLED)
        .select_related("event")
        .annotate(event_has_shifts=Exists(Shift.objects.filter(event=OuterRef("event"))))
        .order_by("-event__starts_at")
    )


def organizer_events(*, approval: str = "", q: str = "", upcoming: bool = True) -> QuerySet[Event]:
    qs = Event.objects.select_related("campaign", "group").prefetch_related(
        Prefetch("hosts", queryset=EventHost.objects.select_related("person"))
    )
    if approval:
        qs = qs.filter(approval=approval)
    if upcoming:
        qs = qs.filter(ends_at__gte=timezone.now())
    if q:
        qs = qs.filter(
            Q(title__icontains=q) | Q(postal_code__startswith=q) | Q(locality__icontains=q)
        )
    return qs.order_by("starts_at", "id")


def feed_events(*, campaign=None, group=None) -> QuerySet[Event]:
    """Calendar feeds: listed events from 30 days ago on (cancelled ones stay, marked so)."""
    qs = Event.objects.filter(
        visibility=Visibility.PUBLIC,
        approval=Approval.APPROVED,
        ends_at__gte=timezone.now() - timedelta(days=30),
    )
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    if group is not None:
        qs = qs.filter(group=group)
    return qs.order_by("starts_at")[:500]


def ways_to_help(campaign) -> list[dict]:
    """For the mission page: find an event, or host one."""
    upcoming = listed_events().filter(ends_at__gte=timezone.now())
    query = ""
    if campaign is not None:
        upcoming = upcoming.filter(campaign=campaign)
        query = f"?campaign={campaign.slug}"
    return [
        {
            "title": "Go to an event near you",
            "url": reverse("events:list") + query,
            "kind": "rsvp",
            "blurb": "House parties, canvasses, phone banks and rallies, hosted by supporters.",
            "count": upcoming.count(),
        },
        {
            "title": "Host an event",
            "url": reverse("events:create") + query,
            "kind": "host",
            "blurb": "Invite your neighbours over. We'll handle the RSVPs and reminders.",
            "count": None,
        },
    ]
