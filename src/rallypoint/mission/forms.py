from django import forms

from rallypoint.core.widgets import RichTextarea
from rallypoint.ledger.kinds import KINDS, kind_choices
from rallypoint.segments.models import Segment
from rallypoint.sharing.kit import DEFAULT_SHARE_TEXTS, SHARE_TEXT_LABELS, SHARE_TEXT_MAX

from .models import Campaign, CampaignStatus, Goal
from .services import POINTS_MAX

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
IMAGE_MAX_BYTES = 5 * 1024 * 1024


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(
        max_length=100,
        required=False,
        label="Web address",
        help_text="/campaigns/<this>/ — letters, numbers and hyphens. Blank: made from the name.",
    )
    summary = forms.CharField(
        max_length=300,
        required=False,
        help_text="One sentence. Shown on cards and when the page is shared.",
    )
    story = forms.CharField(
        required=False,
        widget=RichTextarea(),
        help_text="Why this matters: headings, bold, italics, lists, quotes and links are kept.",
    )
    image = forms.ImageField(required=False, help_text="JPEG, PNG, GIF or WebP, up to 5 MB.")
    remove_image = forms.BooleanField(required=False, label="Remove the uploaded image")
    image_url = forms.URLField(
        required=False,
        assume_scheme="https",
        label="…or image URL",
        help_text="Used when no image is uploaded.",
    )
    starts_at = forms.DateTimeField(required=False, widget=DATETIME_INPUT, label="Starts")
    ends_at = forms.DateTimeField(required=False, widget=DATETIME_INPUT, label="Ends")
    status = forms.ChoiceField(
        choices=CampaignStatus.choices,
        initial=CampaignStatus.DRAFT,
        help_text="Only live and closed campaigns are public.",
    )

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if image and image.size > IMAGE_MAX_BYTES:
            raise forms.ValidationError("That image is larger than 5 MB.")
        return image

    @classmethod
    def for_campaign(cls, campaign: Campaign, *args, **kwargs) -> "CampaignForm":
        initial = {
            name: getattr(campaign, name)
            for name in (
                "name",
                "slug",
                "summary",
                "story",
                "image_url",
                "starts_at",
                "ends_at",
                "status",
            )
        }
        return cls(*args, initial=initial, **kwargs)


class GoalForm(forms.Form):
    kind = forms.ChoiceField(choices=kind_choices(), label="What it counts")
    target = forms.IntegerField(min_value=1, max_value=10**12, help_text="For money, in dollars.")
    title = forms.CharField(
        max_length=200, required=False, help_text="Optional. Blank: “10,000 signatures”."
    )
    deadline = forms.DateTimeField(required=False, widget=DATETIME_INPUT)
    region = forms.CharField(
        max_length=100,
        required=False,
        label="Only from region",
        help_text="A state code like OH to count only acts by people who live there. Blank: all.",
    )
    segment = forms.ModelChoiceField(
        queryset=Segment.objects.order_by("name"),
        required=False,
        label="Only from segment",
        empty_label="Everyone",
        help_text="Count only acts by people in a saved segment, e.g. “Ohio volunteers”.",
    )
    position = forms.IntegerField(
        min_value=0,
        max_value=1000,
        required=False,
        label="Order",
        help_text="Goals are shown in this order, smallest first.",
    )

    @classmethod
    def for_goal(cls, goal: Goal, *args, **kwargs) -> "GoalForm":
        names = ("kind", "target", "title", "deadline", "region", "segment", "position")
        return cls(*args, initial={name: getattr(goal, name) for name in names}, **kwargs)


class ShareTextsForm(forms.Form):
    """One text per channel. A blank box means the default text."""

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in SHARE_TEXT_LABELS.items():
            self.fields[key] = forms.CharField(
                label=label,
                required=False,
                max_length=SHARE_TEXT_MAX,
                initial=(campaign.share_texts or {}).get(key) or DEFAULT_SHARE_TEXTS[key],
                widget=forms.Textarea(attrs={"rows": 3 if key == "email" else 2}),
            )


class PointsForm(forms.Form):
    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        for code, kind in KINDS.items():
            if not kind.participation:
                continue
            self.fields[code] = forms.IntegerField(
                label=kind.noun.capitalize(),
                min_value=0,
                max_value=POINTS_MAX,
                initial=(campaign.points or {}).get(code, kind.points),
                help_text=f"Default {kind.points}",
            )
