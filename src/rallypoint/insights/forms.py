"""Forms of the steering pages: presence accounts and snapshots, the presence CSV upload, the
window, whom to ask next and saving the choice as a segment. Each checks its input at the edge
with a message a person can act on; the services check again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from rallypoint.imports.csvfile import has_bad_characters
from rallypoint.mission.models import Campaign

from .models import Platform
from .services.ask import MAX_K, MODELS
from .services.grid import WindowError, window_parse
from .services.presence import (
    MAX_CSV_BYTES,
    AccountData,
    audience_clean,
    day_clean,
    handle_clean,
    url_clean,
)


def _text_ok(value: str) -> str:
    if value and has_bad_characters(value):
        raise ValidationError("This contains characters that aren't text.")
    return value


class AccountForm(forms.Form):
    platform = forms.ChoiceField(choices=Platform.choices)
    handle = forms.CharField(max_length=200, help_text="Like @ourcampaign (Mastodon: @name@server)")
    url = forms.CharField(label="Address", max_length=500, required=False)
    owner = forms.ChoiceField(
        label="Whose account",
        choices=[("own", "Ours"), ("rival", "A rival campaign's")],
        widget=forms.RadioSelect,
        initial="own",
    )
    rival_name = forms.CharField(label="Rival campaign", max_length=120, required=False)
    campaign = forms.ModelChoiceField(
        label="Our campaign it belongs to",
        queryset=Campaign.objects.order_by("name"),
        required=False,
        empty_label="(none)",
    )
    fetch = forms.BooleanField(
        label="Fetch its audience automatically when its platform allows",
        required=False,
        initial=True,
    )

    def clean_handle(self) -> str:
        return handle_clean(_text_ok(self.cleaned_data["handle"]))

    def clean_url(self) -> str:
        return url_clean(_text_ok(self.cleaned_data["url"]))

    def clean_rival_name(self) -> str:
        return _text_ok(self.cleaned_data["rival_name"]).strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("owner") == "rival" and not data.get("rival_name"):
            self.add_error("rival_name", "Name the rival campaign this account is.")
        return data

    def account_data(self) -> AccountData:
        data = self.cleaned_data
        return AccountData(
            platform=data["platform"],
            handle=data["handle"],
            url=data["url"],
            is_own=data["owner"] == "own",
            rival_name=data["rival_name"],
            campaign=data["campaign"],
            fetch=data["fetch"],
        )


class SnapshotForm(forms.Form):
    day = forms.CharField(
        label="Date", max_length=40, widget=forms.DateInput(attrs={"type": "date"})
    )
    audience = forms.CharField(
        label="Audience", max_length=30, help_text="Followers, friends or subscribers that day"
    )
    posts = forms.CharField(label="Posts", max_length=30, required=False)
    engagement = forms.CharField(label="Engagement", max_length=30, required=False)

    def clean_day(self):
        return day_clean(_text_ok(self.cleaned_data["day"]))

    def clean_audience(self) -> int:
        return audience_clean(_text_ok(self.cleaned_data["audience"]))

    def clean_posts(self) -> int | None:
        raw = _text_ok(self.cleaned_data["posts"])
        return audience_clean(raw, "Posts") if raw.strip() else None

    def clean_engagement(self) -> int | None:
        raw = _text_ok(self.cleaned_data["engagement"])
        return audience_clean(raw, "Engagement") if raw.strip() else None


class PresenceImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: platform, handle, date, count (optional: posts, engagement, owner)",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise ValidationError(f"The file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB.")
        return upload


class WindowForm(forms.Form):
    """?since=YYYY-MM-DD&until=YYYY-MM-DD (both optional), read with services.grid's rules."""

    since = forms.CharField(
        required=False, max_length=40, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.CharField(
        required=False, max_length=40, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            data["window"] = window_parse(
                _text_ok(data.get("since") or ""), _text_ok(data.get("until") or "")
            )
        except WindowError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, str(exc))
        except ValidationError as exc:
            self.add_error(None, exc)
        return data


class AskForm(forms.Form):
    k = forms.IntegerField(label="How many people to ask", min_value=1, max_value=MAX_K, initial=50)
    model = forms.ChoiceField(
        label="Spread model",
        choices=[("ic", "Independent cascade"), ("lt", "Linear threshold")],
        initial="ic",
    )

    def clean_model(self) -> str:
        value = self.cleaned_data["model"]
        if value not in MODELS:
            raise ValidationError("Choose a spread model.")
        return value


class SegmentSaveForm(forms.Form):
    run = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    name = forms.CharField(label="Segment name", max_length=120)

    def clean_name(self) -> str:
        return _text_ok(self.cleaned_data["name"]).strip()
