"""Events: anyone can host; people find them by place and date, RSVP, get reminded, check in."""

import uuid
from zoneinfo import ZoneInfo

from django.db import models
from django.db.models import Q
from django.urls import reverse

from rallypoint.core.models import TimeStampedModel
from rallypoint.people.questions import QuestionBase

from .links import is_web_url

DEFAULT_REMINDER_MINUTES = [24 * 60, 2 * 60]


class EventType(models.TextChoices):
    HOUSE_PARTY = "house_party", "House party"
    CANVASS = "canvass", "Canvass"
    PHONE_BANK = "phone_bank", "Phone bank"
    RALLY = "rally", "Rally"
    MEETING = "meeting", "Meeting"
    FUNDRAISER = "fundraiser", "Fundraiser"
    TRAINING = "training", "Training"
    OTHER = "other", "Other"


class LocationMode(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    VIRTUAL = "virtual", "Online"
    HYBRID = "hybrid", "In person and online"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public: listed in search"
    UNLISTED = "unlisted", "Unlisted: anyone with the link"
    PRIVATE = "private", "Private: invited people only"


class EventStatus(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    TENTATIVE = "tentative", "Tentative"
    CANCELLED = "cancelled", "Cancelled"


class Approval(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Not approved"


class Repeat(models.TextChoices):
    WEEKLY = "weekly", "Every week"
    BIWEEKLY = "biweekly", "Every 2 weeks"
    MONTHLY = "monthly", "Every month, on the same weekday"


class Series(TimeStampedModel):
    """Events that repeat (a weekly phone bank). Each occurrence is an Event of its own, with
    its own RSVPs; the series only links them, so one, the following or all can be edited."""

    frequency = models.CharField(max_length=10, choices=Repeat.choices)

    class Meta:
        verbose_name_plural = "series"

    def __str__(self) -> str:
        return f"{self.get_frequency_display()} ({self.pk})"


class Event(TimeStampedModel):
    """One gathering. Shaped after OSDI's event."""

    title = models.CharField(max_length=200)
    event_type = models.CharField(max_length=20, choices=EventType.choices, default=EventType.OTHER)
    description = models.TextField(blank=True)
    location_mode = models.CharField(
        max_length=10, choices=LocationMode.choices, default=LocationMode.IN_PERSON
    )
    venue = models.CharField(max_length=200, blank=True)
    address_line = models.CharField(max_length=200, blank=True)
    locality = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, default="US")
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    # Shown only to people with an RSVP (and hosts).
    join_url = models.URLField(max_length=500, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    timezone = models.CharField(max_length=64, default="America/New_York")
    # None: no limit. Counts attendees plus their guests.
    capacity = models.PositiveIntegerField(null=True, blank=True)
    waitlist_enabled = models.BooleanField(default=True)
    # Attendees plus guests with an accepted RSVP. Written only by the RSVP services while they
    # hold this row's lock, so it is never a contended counter of its own.
    seats_taken = models.PositiveIntegerField(default=0)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    status = models.CharField(
        max_length=10, choices=EventStatus.choices, default=EventStatus.CONFIRMED
    )
    approval = models.CharField(max_length=10, choices=Approval.choices, default=Approval.APPROVED)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=30, blank=True)
    instructions = models.TextField(blank=True)
    campaign = models.ForeignKey(
        "mission.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    group = models.ForeignKey(
        "groups.Group", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    reminder_minutes = models.JSONField(default=list, blank=True)
    # Bumped when time or place changes; calendars use it as SEQUENCE.
    revision = models.PositiveIntegerField(default=0)
    host_credited_at = models.DateTimeField(null=True, blank=True)
    cancelled_reason = models.TextField(blank=True)
    series = models.ForeignKey(
        Series, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            # The finder: listed, upcoming events inside a bounding box.
            models.Index(
                fields=["starts_at", "latitude", "longitude"],
                name="event_listed_when_where",
                condition=Q(visibility="public", approval="approved") & ~Q(status="cancelled"),
            ),
            # …and listed online events by date, so "near me or online" is two index scans.
            models.Index(
                fields=["starts_at"],
                name="event_listed_online",
                condition=Q(visibility="public", approval="approved", location_mode="virtual")
                & ~Q(status="cancelled"),
            ),
            models.Index(fields=["latitude", "longitude"], name="event_lat_lng"),
            models.Index(fields=["campaign", "starts_at"]),
            models.Index(fields=["group", "starts_at"]),
            models.Index(fields=["approval", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="event_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("events:detail", args=[self.uuid])

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def local_start(self):
        return self.starts_at.astimezone(self.zone)

    @property
    def local_end(self):
        return self.ends_at.astimezone(self.zone)

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED

    @property
    def is_in_person(self) -> bool:
        return self.location_mode in {LocationMode.IN_PERSON, LocationMode.HYBRID}

    @property
    def is_virtual(self) -> bool:
        return self.location_mode in {LocationMode.VIRTUAL, LocationMode.HYBRID}

    @property
    def seats_left(self) -> int | None:
        if self.capacity is None:
            return None
        return max(self.capacity - self.seats_taken, 0)

    @property
    def is_full(self) -> bool:
        return self.capacity is not None and self.seats_taken >= self.capacity

    @property
    def place_line(self) -> str:
        parts = [self.venue, self.address_line, self.locality, self.region, self.postal_code]
        return ", ".join(p for p in parts if p)

    @property
    def join_link(self) -> str:
        """The join link when it is a web address: pages, emails, calendars and the API show
        this, so a link stored before http(s) was enforced is never offered."""
        return self.join_url if is_web_url(self.join_url) else ""

    @property
    def offsets(self) -> list[int]:
        return list(self.reminder_minutes or DEFAULT_REMINDER_MINUTES)


class HostRole(models.TextChoices):
    HOST = "host", "Host"
    COHOST = "cohost", "Co-host"


class EventHost(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="hosts")
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="hosting")
    role = models.CharField(max_length=10, choices=HostRole.choices, default=HostRole.HOST)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["role", "id"]
        constraints = [models.UniqueConstraint(fields=["event", "person"], name="event_host_once")]
        indexes = [models.Index(fields=["person", "event"])]

    def __str__(self) -> str:
        return f"{self.person_id} {self.role} {self.event_id}"


class RsvpStatus(models.TextChoices):
    ACCEPTED = "accepted", "Going"
    WAITLISTED = "waitlisted", "Waitlist"
    CANCELLED = "cancelled", "Cancelled"


class Rsvp(TimeStampedModel):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="rsvps")
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="rsvps")
    status = models.CharField(max_length=12, choices=RsvpStatus.choices)
    guests = models.PositiveSmallIntegerField(default=0)
    comment = models.TextField(blank=True)
    attended = models.BooleanField(default=False)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    walk_in = models.BooleanField(default=False)
    source = models.CharField(max_length=50, blank=True)
    # Kept so a waitlisted person promoted later still credits who brought them.
    referral_code = models.CharField(max_length=16, blank=True)
    referral_channel = models.CharField(max_length=20, blank=True)
    promoted_at = models.DateTimeField(null=True, blank=True)
    # The answers to the event's questions: {"<question id>": value} (people.questions).
    answers = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "person"], name="rsvp_once_per_event")
        ]
        indexes = [
            models.Index(fields=["event", "status", "created_at"]),
            models.Index(fields=["person", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.status} {self.event_id}"

    @property
    def seats(self) -> int:
        return 1 + self.guests


class Shift(models.Model):
    """One time slot of an event, with its own capacity and waitlist. People pick one or more;
    an event without shifts takes RSVPs to the event as a whole."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="shifts")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # None: no limit. Counts people plus their guests.
    capacity = models.PositiveIntegerField(null=True, blank=True)
    waitlist_enabled = models.BooleanField(default=True)
    # People plus guests with an accepted place in this shift. Written only by the RSVP
    # services while they hold this row's lock (as Event.seats_taken).
    seats_taken = models.PositiveIntegerField(default=0)
    # The same slot in every occurrence of a series, so "this and following" finds it.
    series_key = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="shift_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"shift {self.pk} of {self.event_id}"

    @property
    def local_start(self):
        return self.starts_at.astimezone(self.event.zone)

    @property
    def local_end(self):
        return self.ends_at.astimezone(self.event.zone)

    @property
    def seats_left(self) -> int | None:
        if self.capacity is None:
            return None
        return max(self.capacity - self.seats_taken, 0)

    @property
    def is_full(self) -> bool:
        return self.capacity is not None and self.seats_taken >= self.capacity


class ShiftSignup(models.Model):
    """Someone's place in one shift, through their RSVP: going, waiting, or cancelled."""

    rsvp = models.ForeignKey(Rsvp, on_delete=models.CASCADE, related_name="shift_signups")
    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="signups")
    status = models.CharField(max_length=12, choices=RsvpStatus.choices)
    # The RSVP's time: the order of the shift's waitlist.
    created_at = models.DateTimeField()
    promoted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["rsvp", "shift"], name="shift_signup_once")]
        indexes = [models.Index(fields=["shift", "status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.rsvp_id} {self.status} shift {self.shift_id}"


class EventQuestion(QuestionBase):
    """A host's question on the RSVP form (its fields and kinds: `people.questions`)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="questions")
    # The same question in every occurrence of a series.
    series_key = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta(QuestionBase.Meta):
        pass


class ReminderSent(models.Model):
    """One reminder to one attendee on one channel for one start time: the event's, or (with
    `shift`) that shift's, for people in shifts. The unique constraints are what make a
    reminder go out once even when two workers or a restarted worker run it."""

    rsvp = models.ForeignKey(Rsvp, on_delete=models.CASCADE, related_name="reminders_sent")
    shift = models.ForeignKey(
        Shift, null=True, blank=True, on_delete=models.CASCADE, related_name="reminders_sent"
    )
    minutes_before = models.PositiveIntegerField()
    channel = models.CharField(max_length=20)
    starts_at = models.DateTimeField()
    # True when a nearer reminder was due at the same time and this one was passed over.
    skipped = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Two conditions, since NULL shifts would never collide in one constraint.
            models.UniqueConstraint(
                fields=["rsvp", "minutes_before", "channel", "starts_at"],
                condition=Q(shift__isnull=True),
                name="reminder_once",
            ),
            models.UniqueConstraint(
                fields=["rsvp", "shift", "minutes_before", "channel", "starts_at"],
                condition=Q(shift__isnull=False),
                name="shift_reminder_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rsvp_id} {self.minutes_before}m {self.channel}"


class EventMessage(models.Model):
    """A message a host sent to the attendees."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        "people.Person", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    include_waitlist = models.BooleanField(default=False)
    recipients = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.subject


class CampaignEventSettings(models.Model):
    """Per-campaign choices for events (the campaign model belongs to the mission app)."""

    campaign = models.OneToOneField(
        "mission.Campaign", on_delete=models.CASCADE, related_name="event_settings"
    )
    require_approval = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"event settings for {self.campaign_id}"


class EventTemplate(models.Model):
    """A distributed day of action ("host a house party on Oct 12"): under this campaign,
    supporters host events from this template. The host form is filled from it, the fields it
    locks can't be changed, and the events must start within its dates. The campaign's events
    page lists them all, and its goals count what they bring (a "host" goal counts the events
    that happened)."""

    campaign = models.OneToOneField(
        "mission.Campaign", on_delete=models.CASCADE, related_name="event_template"
    )
    title = models.CharField(max_length=200)
    event_type = models.CharField(max_length=20, choices=EventType.choices)
    description = models.TextField(blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    lock_title = models.BooleanField(default=True)
    lock_event_type = models.BooleanField(default=True)
    lock_description = models.BooleanField(default=False)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="event_template_dates"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def locked(self) -> list[str]:
        """The host form's fields this template fixes."""
        return [
            name
            for name, locked in (
                ("title", self.lock_title),
                ("event_type", self.lock_event_type),
                ("description", self.lock_description),
            )
            if locked
        ]


class SweepState(models.Model):
    """Keeps one self-rescheduling sweep chain alive (reminders and host credit)."""

    name = models.CharField(max_length=50, unique=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
