"""Forms for events: the edge where input is checked, with messages a host can act on."""

from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

from django import forms
from django.core.exceptions import ValidationError

from rallypoint.core.widgets import email_input, name_input, phone_input, postal_code_input
from rallypoint.mission.models import Campaign, CampaignStatus
from rallypoint.people.forms import EmailTypoMixin

from .links import web_url_validator
from .models import EventStatus, EventType, LocationMode, Visibility
from .services import MAX_GUESTS, EventData

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
COMMON_ZONES = [
    ("America/New_York", "Eastern (New York)"),
    ("America/Chicago", "Central (Chicago)"),
    ("America/Denver", "Mountain (Denver)"),
    ("America/Phoenix", "Arizona (Phoenix)"),
    ("America/Los_Angeles", "Pacific (Los Angeles)"),
    ("America/Anchorage", "Alaska (Anchorage)"),
    ("Pacific/Honolulu", "Hawaii (Honolulu)"),
]


def zone_choices() -> list:
    common = {z for z, _ in COMMON_ZONES}
    others = sorted(z for z in available_timezones() if "/" in z and z not in common)
    return [
        ("", "From the postal code"),
        ("United States", COMMON_ZONES),
        ("All time zones", [(z, z.replace("_", " ")) for z in others]),
    ]


class LocalDateTimeField(forms.CharField):
    """A wall-clock time (datetime-local input) without a zone; the form adds the event's."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_FORMAT)

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        for fmt in (LOCAL_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
            try:
                return datetime.strptime(value.strip(), fmt)
            except ValueError:
                continue
        raise ValidationError("Enter a date and time, like 2026-10-03 18:30.")


class WebURLField(forms.URLField):
    """A web address: http(s) only (no javascript:, data: or ftp: links)."""

    default_validators = [web_url_validator]
    default_error_messages = {"invalid": web_url_validator.message}


def reminder_label(minutes: int) -> str:
    if minutes % 10080 == 0:
        weeks = minutes // 10080
        return "1 week before" if weeks == 1 else f"{weeks} weeks before"
    if minutes % 1440 == 0:
        days = minutes // 1440
        return "1 day before" if days == 1 else f"{days} days before"
    if minutes % 60 == 0:
        hours = minutes // 60
        return "1 hour before" if hours == 1 else f"{hours} hours before"
    return f"{minutes} minutes before"


REMINDER_CHOICES = [(m, reminder_label(m)) for m in (10080, 2880, 1440, 180, 120, 60, 30)]


class EventForm(forms.Form):
    title = forms.CharField(max_length=200, label="Event name")
    event_type = forms.ChoiceField(choices=EventType.choices, label="Type of event")
    description = forms.CharField(
        widget=forms.Textarea, required=False, help_text="What will happen, who it's for."
    )
    location_mode = forms.ChoiceField(
        choices=LocationMode.choices,
        label="Where",
        widget=forms.RadioSelect,
        initial=LocationMode.IN_PERSON,
    )
    venue = forms.CharField(max_length=200, required=False, help_text="e.g. “Maria's backyard”")
    address_line = forms.CharField(max_length=200, required=False, label="Street address")
    postal_code = forms.CharField(
        max_length=20,
        required=False,
        label="Postal code",
        help_text="Needed for in-person events: it's how people nearby find yours.",
    )
    latitude = forms.FloatField(required=False, help_text="Optional: the exact spot on the map.")
    longitude = forms.FloatField(required=False)
    join_url = WebURLField(
        max_length=500,
        required=False,
        label="Link to join online",
        help_text="Only people who RSVP see it.",
        assume_scheme="https",
    )
    starts_at = LocalDateTimeField(label="Starts")
    ends_at = LocalDateTimeField(label="Ends")
    timezone = forms.ChoiceField(choices=zone_choices, required=False, label="Time zone")
    capacity = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=1_000_000,
        help_text="Leave empty for no limit. Guests count toward it.",
    )
    waitlist_enabled = forms.BooleanField(
        required=False, initial=True, label="When it's full, keep a waitlist"
    )
    visibility = forms.ChoiceField(choices=Visibility.choices, initial=Visibility.PUBLIC)
    status = forms.ChoiceField(
        choices=[(EventStatus.CONFIRMED, "Confirmed"), (EventStatus.TENTATIVE, "Tentative")],
        initial=EventStatus.CONFIRMED,
    )
    contact_name = forms.CharField(max_length=200, required=False, widget=name_input("name"))
    contact_email = forms.CharField(max_length=254, required=False, widget=email_input())
    contact_phone = forms.CharField(max_length=30, required=False, widget=phone_input())
    instructions = forms.CharField(
        widget=forms.Textarea,
        required=False,
        help_text="Shown to people after they RSVP: parking, what to bring, door code.",
    )
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.filter(status=CampaignStatus.LIVE),
        required=False,
        to_field_name="slug",
    )
    reminders = forms.TypedMultipleChoiceField(
        choices=REMINDER_CHOICES,
        coerce=int,
        required=False,
        initial=[1440, 120],
        label="Email reminders to people coming",
        widget=forms.CheckboxSelectMultiple,
    )

    # What a supporter who hosts does not set: the event is confirmed, and its map pin comes
    # from the postal code. Organizers see these fields.
    ORGANIZER_ONLY = ("status", "latitude", "longitude")

    def __init__(self, *args, organizer: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.organizer = organizer
        if not organizer:
            for name in self.ORGANIZER_ONLY:
                del self.fields[name]
        # An event edited with reminders set elsewhere (the API) keeps them as choices.
        known = {minutes for minutes, _ in REMINDER_CHOICES}
        extra = [m for m in self.initial.get("reminders", []) if m not in known]
        if extra:
            field = self.fields["reminders"]
            field.choices = sorted(
                [*REMINDER_CHOICES, *[(m, reminder_label(m)) for m in extra]], key=lambda c: -c[0]
            )

    def _kept(self, name: str, default):
        """A field's value, or (when it is not on this form) the event's own."""
        if name in self.fields:
            return self.cleaned_data.get(name, default)
        return self.initial.get(name, default)

    def to_data(self, *, group=None) -> EventData:
        """The form's values as EventData, times placed in the chosen (or postal) zone."""
        c = self.cleaned_data
        data = EventData(
            title=c["title"],
            event_type=c["event_type"],
            description=c.get("description", ""),
            location_mode=c["location_mode"],
            venue=c.get("venue", ""),
            address_line=c.get("address_line", ""),
            postal_code=c.get("postal_code", ""),
            latitude=self._kept("latitude", None),
            longitude=self._kept("longitude", None),
            join_url=c.get("join_url", ""),
            timezone=c.get("timezone", ""),
            capacity=c.get("capacity"),
            waitlist_enabled=c.get("waitlist_enabled", False),
            visibility=c["visibility"],
            status=self._kept("status", EventStatus.CONFIRMED),
            contact_name=c.get("contact_name", ""),
            contact_email=c.get("contact_email", ""),
            contact_phone=c.get("contact_phone", ""),
            instructions=c.get("instructions", ""),
            campaign=c.get("campaign"),
            group=group,
            reminder_minutes=sorted(c.get("reminders") or [], reverse=True),
        )
        from .services.events import _zone_for

        zone_name = _zone_for(data) or "America/New_York"
        zone = ZoneInfo(zone_name)
        data.timezone = zone_name
        data.starts_at = c["starts_at"].replace(tzinfo=zone) if c.get("starts_at") else None
        data.ends_at = c["ends_at"].replace(tzinfo=zone) if c.get("ends_at") else None
        return data

    @classmethod
    def initial_for(cls, event) -> dict:
        return {
            **{name: getattr(event, name) for name in cls.base_fields if hasattr(event, name)},
            "starts_at": event.local_start.strftime(LOCAL_FORMAT),
            "ends_at": event.local_end.strftime(LOCAL_FORMAT),
            "campaign": event.campaign.slug if event.campaign else None,
            "reminders": list(event.offsets),
        }

    def add_service_errors(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for name, errors in exc.message_dict.items():
                field = {"reminder_minutes": "reminders"}.get(name, name)
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, exc)


class RsvpForm(EmailTypoMixin, forms.Form):
    given_name = forms.CharField(
        max_length=100, label="First name", widget=name_input("given-name")
    )
    family_name = forms.CharField(
        max_length=100, required=False, label="Last name", widget=name_input("family-name")
    )
    email = forms.CharField(max_length=254, label="Email", widget=email_input())
    phone = forms.CharField(max_length=40, required=False, label="Phone", widget=phone_input())
    postal_code = forms.CharField(
        max_length=20, required=False, label="Postal code", widget=postal_code_input()
    )
    guests = forms.IntegerField(
        min_value=0,
        max_value=MAX_GUESTS,
        initial=0,
        required=False,
        label="Bringing anyone?",
        help_text=f"Number of guests, up to {MAX_GUESTS}.",
    )
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )
    # Left empty by people; filled by form-spamming bots.
    website = forms.CharField(required=False)


class SearchForm(forms.Form):
    postal_code = forms.CharField(max_length=20, required=False, label="Postal code")
    radius = forms.TypedChoiceField(
        choices=[(5, "5"), (10, "10"), (25, "25"), (50, "50"), (100, "100"), (250, "250")],
        coerce=int,
        required=False,
        initial=25,
        label="Within",
    )
    unit = forms.ChoiceField(choices=[("mi", "miles"), ("km", "km")], required=False, initial="mi")
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    event_type = forms.ChoiceField(
        choices=[("", "Any type"), *EventType.choices], required=False, label="Type"
    )
    mode = forms.ChoiceField(
        choices=[
            ("all", "In person and online"),
            ("in_person", "In person"),
            ("virtual", "Online"),
        ],
        required=False,
        label="Where",
    )
    campaign = forms.CharField(required=False, widget=forms.HiddenInput)
    sort = forms.ChoiceField(
        choices=[("", "Best match"), ("distance", "Nearest first"), ("date", "Soonest first")],
        required=False,
        label="Sort",
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned


class MessageForm(forms.Form):
    subject = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea, max_length=10_000, label="Message")
    include_waitlist = forms.BooleanField(required=False, label="Also send to the waitlist")


class CancelForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text="Sent to everyone who RSVP'd.",
    )


class DuplicateForm(forms.Form):
    starts_at = LocalDateTimeField(label="New start (in the event's time zone)")


class WalkInForm(forms.Form):
    # Typed by a host about someone else: no autofill from the host's own details.
    given_name = forms.CharField(max_length=100, label="First name", widget=name_input("off"))
    family_name = forms.CharField(
        max_length=100, required=False, label="Last name", widget=name_input("off")
    )
    email = forms.CharField(max_length=254, required=False, widget=email_input(autocomplete="off"))
    phone = forms.CharField(max_length=40, required=False, widget=phone_input(autocomplete="off"))

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("email") and not cleaned.get("phone"):
            raise ValidationError("Enter an email address or a phone number.")
        return cleaned


class CampaignSettingsForm(forms.Form):
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.all(), to_field_name="slug")
    require_approval = forms.BooleanField(
        required=False, label="Supporters' events wait for an organizer's approval"
    )
