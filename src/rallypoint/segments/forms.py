"""The segment builder: one plain form (works without JavaScript) ↔ the JSON definition."""

from typing import Any

from django import forms

from rallypoint.ledger.hooks import campaigns_by_id
from rallypoint.ledger.kinds import KINDS
from rallypoint.people.models import Tag

from .definition import EMAIL_STATUS_CHOICES
from .models import Segment


def _campaign_choices() -> list[tuple[Any, str]]:
    """Every campaign by name, for "did … in campaign" (segments name campaigns by id)."""
    return [("", "any campaign"), *((pk, str(c)) for pk, c in campaigns_by_id().items())]


PHONE_CHOICES = [
    ("", "Any"),
    ("yes", "Has a phone number"),
    ("no", "Has no phone number"),
    ("sms", "Agreed to text messages"),
]


def _split(text: str) -> list[str]:
    return [part.strip() for part in (text or "").replace(";", ",").split(",") if part.strip()]


class TagChoiceField(forms.ModelMultipleChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            queryset=Tag.objects.order_by("name"),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            **kwargs,
        )


class SegmentForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(max_length=300, required=False)
    match = forms.ChoiceField(
        label="People must match",
        choices=[("all", "every condition below"), ("any", "at least one condition below")],
        initial="all",
        widget=forms.RadioSelect,
    )
    tags_any = TagChoiceField(label="Has any of these tags")
    tags_all = TagChoiceField(label="Has all of these tags")
    tags_none = TagChoiceField(label="Has none of these tags")
    email_statuses = forms.MultipleChoiceField(
        label="Email status",
        choices=EMAIL_STATUS_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    phone = forms.ChoiceField(label="Phone", choices=PHONE_CHOICES, required=False)
    postal_codes = forms.CharField(
        label="ZIP / postal codes",
        required=False,
        max_length=2000,
        help_text="Separate with commas; end with * for a prefix, e.g. 802*.",
    )
    regions = forms.CharField(
        label="States / regions", required=False, max_length=500, help_text="e.g. CO, NM"
    )
    countries = forms.CharField(
        label="Countries", required=False, max_length=200, help_text="Two-letter codes, e.g. US"
    )
    near_postal_code = forms.CharField(label="Near ZIP code", required=False, max_length=12)
    near_point = forms.CharField(
        label="…or near a point",
        required=False,
        max_length=60,
        help_text="Latitude, longitude — e.g. 39.74, -104.99",
    )
    near_radius = forms.FloatField(label="Within", required=False, min_value=0.1)
    near_unit = forms.ChoiceField(
        label="Unit", choices=[("mi", "miles"), ("km", "km")], initial="mi", required=False
    )
    created_after = forms.DateField(
        label="Joined on or after", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_before = forms.DateField(
        label="Joined on or before", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sources = forms.CharField(
        label="Source is", required=False, max_length=1000, help_text="Separate with commas."
    )
    custom_key = forms.CharField(label="Custom field", required=False, max_length=100)
    custom_value = forms.CharField(label="equals", required=False, max_length=1000)
    activity_did = forms.ChoiceField(
        label="Activity",
        choices=[("did", "Did"), ("did_not", "Did not")],
        initial="did",
        required=False,
    )
    activity_kind = forms.ChoiceField(label="what", required=False)
    activity_campaign = forms.TypedChoiceField(
        label="in campaign",
        choices=_campaign_choices,
        coerce=int,
        empty_value=None,
        required=False,
    )
    activity_since = forms.DateField(
        label="since", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    in_segments = forms.ModelMultipleChoiceField(
        label="Is in any of these segments",
        queryset=Segment.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    exclude_segments = forms.ModelMultipleChoiceField(
        label="Leave out people in these segments",
        queryset=Segment.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    keep_people = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, segment: Segment | None = None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.segment = segment
        # People added by hand (from the people list) are not a rule the builder shows: they
        # are kept as they are, unless the organizer unticks them.
        conditions = (segment.definition or {}).get("conditions", []) if segment else []
        self.picked = next((c for c in conditions if c.get("type") == "people"), None)
        if self.picked is None:
            del self.fields["keep_people"]
        else:
            count = len(self.picked["people"])
            self.fields[
                "keep_people"
            ].label = f"Keep the {count:,} {'person' if count == 1 else 'people'} added by hand"
        others = Segment.objects.order_by("name")
        if segment is not None:
            others = others.exclude(pk=segment.pk)
        self.fields["in_segments"].queryset = others
        self.fields["exclude_segments"].queryset = others
        self.fields["activity_kind"].choices = [
            ("", "—"),
            *((k.code, k.label) for k in KINDS.values()),
        ]

    def clean(self):
        cleaned = super().clean()
        point = cleaned.get("near_point")
        if point:
            try:
                lat, lng = (float(p) for p in point.split(","))
            except ValueError:
                self.add_error(
                    "near_point", "Write it as latitude, longitude — e.g. 39.74, -104.99."
                )
            else:
                cleaned["near_lat"], cleaned["near_lng"] = lat, lng
        near_given = cleaned.get("near_postal_code") or point
        if near_given and not cleaned.get("near_radius"):
            self.add_error("near_radius", "How far from there?")
        if cleaned.get("near_radius") and not near_given:
            self.add_error("near_postal_code", "Give a ZIP code (or a point) to measure from.")
        if cleaned.get("custom_value") and not cleaned.get("custom_key"):
            self.add_error("custom_key", "Which custom field?")
        if (cleaned.get("activity_campaign") or cleaned.get("activity_since")) and not cleaned.get(
            "activity_kind"
        ):
            self.add_error("activity_kind", "Choose the activity.")
        return cleaned

    def definition(self) -> dict[str, Any]:
        """The definition the form describes (not yet checked by definition_clean)."""
        c = self.cleaned_data
        conditions: list[dict[str, Any]] = []
        for mode in ("any", "all", "none"):
            tags = c.get(f"tags_{mode}")
            if tags:
                conditions.append(
                    {"type": "tags", "mode": mode, "tags": sorted(t.pk for t in tags)}
                )
        if c.get("email_statuses"):
            conditions.append({"type": "email_status", "statuses": list(c["email_statuses"])})
        phone = c.get("phone")
        if phone:
            conditions.append(
                {
                    "type": "phone",
                    "has_phone": {"yes": True, "no": False}.get(phone),
                    "sms_consent": True if phone == "sms" else None,
                }
            )
        codes, regions, countries = (
            _split(c.get("postal_codes")),
            _split(c.get("regions")),
            _split(c.get("countries")),
        )
        if codes or regions or countries:
            conditions.append(
                {
                    "type": "place",
                    "postal_codes": codes,
                    "regions": regions,
                    "countries": countries,
                }
            )
        if c.get("near_radius") and (c.get("near_postal_code") or "near_lat" in c):
            conditions.append(
                {
                    "type": "near",
                    "postal_code": c.get("near_postal_code", ""),
                    "lat": c.get("near_lat"),
                    "lng": c.get("near_lng"),
                    "radius": c["near_radius"],
                    "unit": c.get("near_unit") or "mi",
                }
            )
        if c.get("created_after") or c.get("created_before"):
            conditions.append(
                {
                    "type": "created",
                    "after": c["created_after"].isoformat() if c.get("created_after") else None,
                    "before": c["created_before"].isoformat() if c.get("created_before") else None,
                }
            )
        if _split(c.get("sources")):
            conditions.append({"type": "source", "sources": _split(c.get("sources"))})
        if c.get("custom_key"):
            conditions.append(
                {"type": "custom_field", "key": c["custom_key"], "value": c.get("custom_value", "")}
            )
        if c.get("activity_kind"):
            campaign = c.get("activity_campaign")
            since = c.get("activity_since")
            conditions.append(
                {
                    "type": "activity",
                    "kind": c["activity_kind"],
                    "campaign": campaign,
                    "since": since.isoformat() if since else None,
                    "did": c.get("activity_did") != "did_not",
                }
            )
        if c.get("in_segments"):
            conditions.append(
                {"type": "segments", "segments": sorted(s.pk for s in c["in_segments"])}
            )
        if self.picked is not None and c.get("keep_people"):
            conditions.append(self.picked)
        return {
            "match": c.get("match") or "all",
            "conditions": conditions,
            "exclude_segments": sorted(s.pk for s in c.get("exclude_segments") or []),
        }


def initial_from_definition(segment: Segment) -> dict[str, Any]:
    """Form values that show a stored definition (the builder shows one condition per kind)."""
    d = segment.definition or {}
    initial: dict[str, Any] = {
        "name": segment.name,
        "description": segment.description,
        "match": d.get("match", "all"),
        "exclude_segments": d.get("exclude_segments", []),
    }
    for c in d.get("conditions", []):
        kind = c.get("type")
        if kind == "tags":
            initial[f"tags_{c['mode']}"] = c["tags"]
        elif kind == "email_status":
            initial["email_statuses"] = c["statuses"]
        elif kind == "phone":
            initial["phone"] = (
                "sms"
                if c.get("sms_consent")
                else {True: "yes", False: "no"}.get(c.get("has_phone"), "")
            )
        elif kind == "place":
            initial["postal_codes"] = ", ".join(c.get("postal_codes", []))
            initial["regions"] = ", ".join(c.get("regions", []))
            initial["countries"] = ", ".join(c.get("countries", []))
        elif kind == "near":
            initial["near_postal_code"] = c.get("postal_code", "")
            if not c.get("postal_code"):
                initial["near_point"] = f"{c['lat']}, {c['lng']}"
            initial["near_radius"] = c["radius"]
            initial["near_unit"] = c.get("unit", "mi")
        elif kind == "created":
            initial["created_after"] = c.get("after")
            initial["created_before"] = c.get("before")
        elif kind == "source":
            initial["sources"] = ", ".join(c["sources"])
        elif kind == "custom_field":
            initial["custom_key"], initial["custom_value"] = c["key"], c["value"]
        elif kind == "activity":
            initial["activity_kind"] = c["kind"]
            initial["activity_campaign"] = c.get("campaign")
            initial["activity_since"] = c.get("since")
            initial["activity_did"] = "did" if c.get("did", True) else "did_not"
        elif kind == "segments":
            initial["in_segments"] = c["segments"]
    return initial
