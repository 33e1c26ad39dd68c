"""The organizer's mailing forms. They check the shape of the input; the services
(services.compose, services.delivery) decide what is allowed and say why not."""

from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone

from rallypoint.core.widgets import email_input
from rallypoint.mission.models import Campaign
from rallypoint.segments.models import Segment

from .models import AbMetric, Mailing, MailKind
from .services.compose import EXTRA_SUBJECTS_MAX, from_addresses

MERGE_HELP = (
    "Merge fields: {{ first_name | friend }} writes the person's first name, or “friend” when "
    "it is unknown; also {{ last_name }}, {{ full_name }}, {{ city }} and {{ postal_code }}."
)
AB_WAIT_CHOICES = [
    (30, "30 minutes"),
    (60, "1 hour"),
    (120, "2 hours"),
    (240, "4 hours"),
    (480, "8 hours"),
    (1440, "24 hours"),
]
SCHEDULE_FORMAT = "%Y-%m-%dT%H:%M"


class SegmentChoices(forms.ModelMultipleChoiceField):
    """Segments as a list of checkboxes (the template adds a search filter above them)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            queryset=Segment.objects.order_by("name"),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            **kwargs,
        )


class MailingForm(forms.Form):
    name = forms.CharField(
        max_length=200,
        required=False,
        help_text="For organizers only. Blank: the subject.",
    )
    subject = forms.CharField(max_length=300, required=False)
    preview_text = forms.CharField(
        max_length=200,
        required=False,
        help_text="The line inboxes show after the subject.",
    )
    from_name = forms.CharField(max_length=100, required=False, label="From name")
    from_address = forms.ChoiceField(label="From address")
    reply_to = forms.EmailField(
        required=False,
        label="Reply-to",
        help_text="Where replies go, if not the from address.",
        widget=email_input(),
    )
    body_html = forms.CharField(
        required=False,
        label="Message",
        help_text=MERGE_HELP,
        widget=forms.Textarea(attrs={"rows": 14, "data-mail-editor": "1"}),
    )
    kind = forms.ChoiceField(
        label="Kind of mail",
        choices=MailKind.choices,
        help_text="People who stopped this kind of mail on their preference page won't get it.",
    )
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.order_by("name"), required=False, empty_label="No campaign"
    )
    include_segments = SegmentChoices(label="Send to people in")
    exclude_segments = SegmentChoices(label="But not to people in")
    track_opens = forms.BooleanField(required=False, label="Count opens (a tracking pixel)")
    track_clicks = forms.BooleanField(required=False, label="Count clicks on links")
    subject_b = forms.CharField(max_length=300, required=False, label="Subject B")
    subject_c = forms.CharField(max_length=300, required=False, label="Subject C")
    subject_d = forms.CharField(max_length=300, required=False, label="Subject D")
    ab_sample_percent = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=100,
        label="Test group (% of the audience)",
        help_text="They get the subjects in equal shares; the rest get the winner.",
    )
    ab_wait_minutes = forms.TypedChoiceField(
        coerce=int, choices=AB_WAIT_CHOICES, initial=240, label="Pick the winner after"
    )
    ab_metric = forms.ChoiceField(
        choices=AbMetric.choices,
        initial=AbMetric.CLICKS,
        label="The winner has the most",
        required=False,
    )

    EXTRA_FIELDS = ("subject_b", "subject_c", "subject_d")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from_field = self.fields["from_address"]
        assert isinstance(from_field, forms.ChoiceField)
        from_field.choices = [(a.address, a.label) for a in from_addresses()]
        # A wait set elsewhere (the API) stays choosable as it is.
        wait = self.initial.get("ab_wait_minutes")
        wait_field = self.fields["ab_wait_minutes"]
        assert isinstance(wait_field, forms.TypedChoiceField)
        if isinstance(wait, int) and wait not in dict(AB_WAIT_CHOICES):
            wait_field.choices = sorted([*AB_WAIT_CHOICES, (wait, f"{wait} minutes")])
        assert len(self.EXTRA_FIELDS) == EXTRA_SUBJECTS_MAX

    @classmethod
    def initial_for(cls, mailing: Mailing) -> dict[str, Any]:
        variants = list(mailing.variants.all())
        extras = [v.subject for v in variants[1:]]
        initial: dict[str, Any] = {
            field: getattr(mailing, field)
            for field in (
                "name",
                "subject",
                "preview_text",
                "from_name",
                "from_address",
                "reply_to",
                "body_html",
                "kind",
                "track_opens",
                "track_clicks",
                "ab_sample_percent",
                "ab_wait_minutes",
                "ab_metric",
            )
        }
        initial["campaign"] = mailing.campaign_id
        initial["include_segments"] = [s.pk for s in mailing.include_segments.all()]
        initial["exclude_segments"] = [s.pk for s in mailing.exclude_segments.all()]
        for name, subject in zip(cls.EXTRA_FIELDS, extras, strict=False):
            initial[name] = subject
        return initial

    def service_fields(self) -> dict[str, Any]:
        """The cleaned data as keyword arguments of mailing_create / mailing_update."""
        data = dict(self.cleaned_data)
        extras = [data.pop(name) for name in self.EXTRA_FIELDS]
        data["extra_subjects"] = [s for s in extras if s]
        data["ab_sample_percent"] = data.get("ab_sample_percent") or 0
        data["ab_metric"] = data.get("ab_metric") or AbMetric.CLICKS
        return data


class AudienceForm(forms.Form):
    """The unsaved audience choice behind the live count."""

    include_segments = SegmentChoices()
    exclude_segments = SegmentChoices()
    kind = forms.ChoiceField(choices=MailKind.choices, required=False)


class TestSendForm(forms.Form):
    to = forms.EmailField(label="Send a test to", widget=email_input())
    person_email = forms.EmailField(
        required=False,
        label="With the merge fields of",
        help_text="The email of someone in your list (blank: your own).",
        widget=email_input(),
    )


class PreviewForm(forms.Form):
    person_email = forms.EmailField(
        required=False,
        label="Preview as",
        help_text="The email of someone in your list, to see their merge fields.",
        widget=email_input(),
    )


class ScheduleForm(forms.Form):
    send_at = forms.DateTimeField(
        label="Send at",
        input_formats=[SCHEDULE_FORMAT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=SCHEDULE_FORMAT),
    )

    def clean_send_at(self) -> datetime:
        when = self.cleaned_data["send_at"]
        if timezone.is_naive(when):
            when = timezone.make_aware(when)
        if when <= timezone.now():
            raise forms.ValidationError("Choose a time in the future.")
        return when
