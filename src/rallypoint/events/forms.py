"""Forms for events: the edge where input is checked, with messages a host can act on."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from rallypoint.core.widgets import (
    RichTextarea,
    email_input,
    name_input,
    phone_input,
    postal_code_input,
)
from rallypoint.mission.models import Campaign, CampaignStatus
from rallypoint.people.forms import EmailTypoMixin
from rallypoint.people.questions import (
    QuestionFormSet,
    question_field,
    question_initial,
    questions_from_formset,
)

from .links import web_url_validator
from .models import Event, EventStatus, EventTemplate, EventType, LocationMode, Repeat, Visibility
from .services import MAX_GUESTS, EventData, RepeatData, Scope, ShiftData
from .services.events import DESCRIPTION_MAX
from .services.series import MAX_OCCURRENCES
from .services.template import TemplateData
from .when import shift_text

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
        widget=RichTextarea(attrs={"rows": 8}),
        required=False,
        max_length=DESCRIPTION_MAX,
        help_text="What will happen, who it's for.",
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
        help_text="Leave empty for no limit. Guests count toward it. With shifts, leave it "
        "empty and give each shift its capacity.",
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

    repeat = forms.ChoiceField(
        choices=[("", "Doesn't repeat"), *Repeat.choices], required=False, label="Repeat"
    )
    repeat_count = forms.IntegerField(
        required=False,
        min_value=2,
        max_value=MAX_OCCURRENCES,
        label="How many times",
        help_text=f"The first one included; at most {MAX_OCCURRENCES}.",
    )
    repeat_until = forms.DateField(
        required=False,
        label="…or until",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The date of the last one.",
    )
    apply_to = forms.ChoiceField(
        choices=Scope.choices,
        initial=Scope.THIS,
        required=False,
        label="Save the changes to",
        widget=forms.RadioSelect,
        help_text="Events of the series that have already started are never changed.",
    )

    # What a supporter who hosts does not set: the event is confirmed, and its map pin comes
    # from the postal code. Organizers see these fields.
    ORGANIZER_ONLY = ("status", "latitude", "longitude")
    REPEAT_FIELDS = ("repeat", "repeat_count", "repeat_until")

    def __init__(
        self,
        *args,
        organizer: bool = False,
        creating: bool = False,
        in_series: bool = False,
        template: EventTemplate | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.organizer = organizer
        self.template = template
        if template is not None:
            # A day of action: filled from its template, the locked fields can't be changed
            # (a disabled field keeps its initial value whatever is posted; the service
            # enforces the same).
            self.fields["campaign"].disabled = True
            for name in ("title", "event_type", "description"):
                self.initial.setdefault(name, getattr(template, name))
            for name in template.locked:
                self.initial[name] = getattr(template, name)
                self.fields[name].disabled = True
                self.fields[name].help_text = "Set by the campaign."
        if not organizer:
            for name in self.ORGANIZER_ONLY:
                del self.fields[name]
        if not creating:  # a series is made when the first event is
            for name in self.REPEAT_FIELDS:
                del self.fields[name]
        if not in_series:
            del self.fields["apply_to"]
        # An event edited with reminders set elsewhere (the API) keeps them as choices.
        known = {minutes for minutes, _ in REMINDER_CHOICES}
        extra = [m for m in self.initial.get("reminders", []) if m not in known]
        if extra:
            field = self.fields["reminders"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = sorted(
                [*REMINDER_CHOICES, *[(m, reminder_label(m)) for m in extra]],
                key=lambda c: -int(c[0]),
            )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("repeat"):
            count, until = cleaned.get("repeat_count"), cleaned.get("repeat_until")
            if count is None and until is None and "repeat_count" not in self.errors:
                self.add_error(
                    "repeat_count", "Say how many times it happens, or until which date."
                )
            elif count is not None and until is not None:
                self.add_error("repeat_until", "Give a number of times or a last date, not both.")
        return cleaned

    def repeat_data(self) -> RepeatData | None:
        """How the new event repeats (None: it doesn't)."""
        c = self.cleaned_data
        if not c.get("repeat"):
            return None
        return RepeatData(
            frequency=c["repeat"], count=c.get("repeat_count"), until=c.get("repeat_until")
        )

    def scope(self) -> str:
        return self.cleaned_data.get("apply_to") or Scope.THIS

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


class ShiftForm(forms.Form):
    """One shift on the host form. A row left blank is no shift; tick Remove to drop one."""

    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # Labels of their own, so "Starts" and "Capacity" name the event's fields only.
    starts_at = LocalDateTimeField(label="From", required=False)
    ends_at = LocalDateTimeField(label="To", required=False)
    capacity = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=1_000_000,
        label="Places",
        help_text="Guests count. Empty: no limit.",
    )
    waitlist_enabled = forms.BooleanField(required=False, initial=True, label="Waitlist when full")

    def is_blank(self) -> bool:
        c = getattr(self, "cleaned_data", {})
        return not (c.get("starts_at") or c.get("ends_at") or c.get("capacity") or c.get("id"))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("id") is None and (cleaned.get("starts_at") or cleaned.get("ends_at")):
            if not cleaned.get("starts_at"):
                self.add_error("starts_at", "When does the shift start?")
            if not cleaned.get("ends_at"):
                self.add_error("ends_at", "When does the shift end?")
        return cleaned


class BaseShiftFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove this shift"


ShiftFormSet = forms.formset_factory(
    ShiftForm, formset=BaseShiftFormSet, extra=2, can_delete=True, max_num=50
)


def shift_initial(event: Event | None) -> list[dict[str, Any]]:
    if event is None:
        return []
    return [
        {
            "id": shift.pk,
            "starts_at": shift.starts_at.astimezone(event.zone).strftime(LOCAL_FORMAT),
            "ends_at": shift.ends_at.astimezone(event.zone).strftime(LOCAL_FORMAT),
            "capacity": shift.capacity,
            "waitlist_enabled": shift.waitlist_enabled,
        }
        for shift in event.shifts.all()
    ]


class HostForms:
    """The host form: the event's own fields, its shifts and its RSVP questions, posted
    together (no JavaScript needed: blank rows to fill, a Remove box on each)."""

    def __init__(
        self,
        data=None,
        *,
        event: Event | None = None,
        initial: dict | None = None,
        organizer: bool = False,
        creating: bool = False,
        template: EventTemplate | None = None,
    ):
        self.event = EventForm(
            data,
            initial=initial,
            organizer=organizer,
            creating=creating,
            in_series=event is not None and event.series_id is not None,
            template=template,
        )
        # A post without a block's rows (a form from before shifts and questions, a client of
        # its own) leaves that block as it is.
        self.shifts_sent = data is None or "shifts-TOTAL_FORMS" in data
        self.questions_sent = data is None or "questions-TOTAL_FORMS" in data
        self.shifts = ShiftFormSet(
            data if self.shifts_sent else None, prefix="shifts", initial=shift_initial(event)
        )
        questions = list(event.questions.all()) if event is not None else []
        self.questions = QuestionFormSet(
            data if self.questions_sent else None,
            prefix="questions",
            initial=question_initial(questions),
        )
        self.shift_errors: list[str] = []
        self.question_errors: list[str] = []
        self._shift_forms: list[ShiftForm] = []
        self._question_forms: list[Any] = []

    @property
    def is_bound(self) -> bool:
        return self.event.is_bound

    @property
    def has_errors(self) -> bool:
        return bool(
            self.event.errors
            or any(f.errors for f in self.shifts.forms)
            or self.shifts.non_form_errors()
            or any(f.errors for f in self.questions.forms)
            or self.questions.non_form_errors()
            or self.shift_errors
            or self.question_errors
        )

    def is_valid(self) -> bool:
        valid = [
            self.event.is_valid(),
            not self.shifts_sent or self.shifts.is_valid(),
            not self.questions_sent or self.questions.is_valid(),
        ]
        return all(valid)

    def shift_rows(self, zone: ZoneInfo) -> list[ShiftData] | None:
        """The shifts kept (blank and removed rows left out), times in the event's zone; None
        when the post had no shift rows."""
        if not self.shifts_sent:
            return None
        rows, self._shift_forms = [], []
        for form in self.shifts.forms:
            c = form.cleaned_data
            if not c or c.get("DELETE") or form.is_blank():
                continue
            start, end = c.get("starts_at"), c.get("ends_at")
            rows.append(
                ShiftData(
                    starts_at=start.replace(tzinfo=zone) if start else None,
                    ends_at=end.replace(tzinfo=zone) if end else None,
                    capacity=c.get("capacity"),
                    waitlist_enabled=bool(c.get("waitlist_enabled")),
                    id=c.get("id"),
                )
            )
            self._shift_forms.append(form)
        return rows

    def question_rows(self) -> list[dict[str, Any]] | None:
        """The questions kept, in order; None when the post had no question rows."""
        if not self.questions_sent:
            return None
        rows = questions_from_formset(self.questions)
        kept = [
            f
            for f in self.questions.forms
            if f.cleaned_data
            and not f.cleaned_data.get("DELETE")
            and (f.cleaned_data.get("label") or "").strip()
        ]
        self._question_forms = kept
        return rows

    def add_service_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.event.add_service_errors(exc)
            return
        rest: dict[str, list[str]] = {}
        for name, errors in exc.message_dict.items():
            prefix, _, index = name.partition("-")
            if prefix in ("shifts", "questions") and index.isdigit():
                forms_of = self._shift_forms if prefix == "shifts" else self._question_forms
                if int(index) < len(forms_of):
                    forms_of[int(index)].add_error(None, errors)
                    continue
            if name == "shifts":
                self.shift_errors += errors
            elif name == "questions":
                self.question_errors += errors
            else:
                rest[name] = errors
        if rest:
            self.event.add_service_errors(ValidationError(rest))


class ShiftCheckboxes(forms.CheckboxSelectMultiple):
    """Shift checkboxes; a full shift without a waitlist is shown, but can't be ticked."""

    def __init__(self, *args, closed: set[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.closed = closed or set()

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if str(value) in self.closed:
            option["attrs"]["disabled"] = True
        return option


def shift_choice_label(shift) -> str:
    if shift.capacity is None:
        return shift_text(shift)
    if shift.is_full:
        return f"{shift_text(shift)} · full" + (
            ": join its waitlist" if shift.waitlist_enabled else ""
        )
    left = shift.seats_left
    return f"{shift_text(shift)} · {left} spot{'' if left == 1 else 's'} left"


def shifts_field(
    choices: list[tuple[str, str]], *, closed: set[str], label: str, help_text: str, required: str
) -> forms.MultipleChoiceField:
    """The checkable list of an event's shifts; `closed` ones (full, no waitlist) can't be
    ticked."""
    return forms.MultipleChoiceField(
        choices=choices,
        widget=ShiftCheckboxes(closed=closed),
        label=label,
        help_text=help_text,
        error_messages={"required": required, "invalid_choice": "Pick shifts from the list."},
    )


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

    def __init__(self, *args, event: Event | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(event.questions.all()) if event is not None else []
        now = timezone.now()
        shifts = [s for s in event.shifts.all() if s.ends_at > now] if event is not None else []
        if shifts:
            closed = {str(s.pk) for s in shifts if s.is_full and not s.waitlist_enabled}
            self.fields["shifts"] = shifts_field(
                [(str(s.pk), shift_choice_label(s)) for s in shifts],
                closed=closed,
                label="Pick your shifts",
                help_text="As many as you can make.",
                required="Pick at least one shift.",
            )
            self.closed_shifts = closed
        for question in self.questions:
            self.fields[question.field_name] = question_field(question)

    def question_fields(self):
        return [self[q.field_name] for q in self.questions]

    def shift_ids(self) -> list[str]:
        return list(self.cleaned_data.get("shifts") or [])

    def answers(self) -> dict[str, Any]:
        return {str(q.pk): self.cleaned_data.get(q.field_name) for q in self.questions}


class ShiftChangeForm(forms.Form):
    """The shifts of someone's RSVP, to change: the event's shifts still to come, theirs
    ticked. A full shift without a waitlist can't be ticked unless they're in it already."""

    def __init__(self, *args, rsvp, signups, **kwargs):
        now = timezone.now()
        shifts = [s for s in rsvp.event.shifts.all() if s.ends_at > now]
        mine = {s.shift_id: s.status for s in signups}
        super().__init__(*args, initial={"shifts": [str(pk) for pk in mine]}, **kwargs)
        closed = {
            str(s.pk) for s in shifts if s.is_full and not s.waitlist_enabled and s.pk not in mine
        }

        def label(shift) -> str:
            status = mine.get(shift.pk)
            if status == "accepted":
                return f"{shift_text(shift)} · you're in"
            if status == "waitlisted":
                return f"{shift_text(shift)} · you're on its waitlist"
            return shift_choice_label(shift)

        self.fields["shifts"] = shifts_field(
            [(str(s.pk), label(s)) for s in shifts],
            closed=closed,
            label="Your shifts",
            help_text="Tick the shifts you can make; untick the ones you can't.",
            required="Pick at least one shift. Not coming at all? Cancel your RSVP.",
        )

    def shift_ids(self) -> list[str]:
        return list(self.cleaned_data.get("shifts") or [])


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
    scope = forms.ChoiceField(
        choices=[
            (Scope.THIS, "This event only"),
            (Scope.FOLLOWING, "This and the following events"),
        ],
        initial=Scope.THIS,
        required=False,
        label="Cancel",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, in_series: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not in_series:
            del self.fields["scope"]


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

    def __init__(self, *args, event: Event | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        shifts = list(event.shifts.all()) if event is not None else []
        if shifts:
            self.fields["shift"] = forms.TypedChoiceField(
                choices=[("", "No shift"), *[(str(s.pk), shift_text(s)) for s in shifts]],
                coerce=int,
                empty_value=None,
                required=False,
                label="Shift",
            )

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


class TemplateForm(forms.Form):
    """An organizer's event template for a campaign (a distributed day of action)."""

    title = forms.CharField(
        max_length=200, label="Event name", help_text="e.g. “House party for clean air”"
    )
    event_type = forms.ChoiceField(choices=EventType.choices, label="Type of event")
    description = forms.CharField(
        widget=RichTextarea(attrs={"rows": 8}), required=False, max_length=DESCRIPTION_MAX
    )
    starts_on = forms.DateField(
        label="First day", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    ends_on = forms.DateField(
        label="Last day",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="The same as the first day for a one-day action.",
    )
    lock_title = forms.BooleanField(required=False, initial=True, label="Hosts keep this name")
    lock_event_type = forms.BooleanField(required=False, initial=True, label="Hosts keep this type")
    lock_description = forms.BooleanField(
        required=False, label="Hosts keep this description (they add their own instructions)"
    )

    def to_data(self) -> TemplateData:
        c = self.cleaned_data
        return TemplateData(
            title=c["title"],
            event_type=c["event_type"],
            description=c.get("description", ""),
            starts_on=c["starts_on"],
            ends_on=c["ends_on"],
            lock_title=bool(c.get("lock_title")),
            lock_event_type=bool(c.get("lock_event_type")),
            lock_description=bool(c.get("lock_description")),
        )

    def add_service_errors(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for name, errors in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        else:
            self.add_error(None, exc)

    @classmethod
    def initial_for(cls, template: EventTemplate | None) -> dict:
        if template is None:
            return {}
        return {name: getattr(template, name) for name in cls.base_fields}
