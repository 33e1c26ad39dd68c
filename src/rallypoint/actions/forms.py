"""Forms of the actions tool: the supporter's form (built from the action) and the organizer's."""

import re
from dataclasses import replace
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from rallypoint.core.forms import errors_to_form
from rallypoint.core.geo import lookup_postal_code
from rallypoint.core.widgets import (
    RichTextarea,
    email_input,
    name_input,
    phone_input,
    postal_code_input,
)
from rallypoint.mission.models import Campaign
from rallypoint.people.forms import EmailTypoMixin
from rallypoint.people.questions import (
    QuestionFormSet,
    question_field,
    question_initial,
    questions_from_formset,
)
from rallypoint.people.services import PersonData

from .models import Action, ActionKind, ActionStatus, Question
from .services import MAX_COMMENT, RESERVED_SLUGS, targets_from_text

# The organizer's question rows are shared with the events tool; imported from here as before.
__all__ = [
    "ActionForm",
    "SubmissionForm",
    "QuestionFormSet",
    "question_initial",
    "questions_from_formset",
]

HONEYPOT_FIELD = "hp_website"
US_ZIP_RE = re.compile(r"^\d{5}(-?\d{4})?$")


class SubmissionForm(EmailTypoMixin, forms.Form):
    """Name, contact details, the action's questions, and a honeypot. Works without JavaScript."""

    given_name = forms.CharField(
        label="First name",
        max_length=100,
        error_messages={"required": "Enter your first name."},
        widget=name_input("given-name"),
    )
    family_name = forms.CharField(
        label="Last name",
        max_length=100,
        required=False,
        widget=name_input("family-name"),
    )
    email = forms.CharField(
        label="Email",
        max_length=254,
        error_messages={"required": "Enter your email address."},
        widget=email_input(),
    )
    postal_code = forms.CharField(
        label="ZIP / postal code",
        max_length=12,
        error_messages={"required": "Enter your ZIP or postal code."},
        widget=postal_code_input(size=10),
    )
    phone = forms.CharField(
        label="Mobile phone (optional)",
        max_length=40,
        required=False,
        widget=phone_input(),
    )
    sms_consent = forms.BooleanField(
        label="Text me updates. Message and data rates may apply; reply STOP to opt out.",
        required=False,
    )
    comment = forms.CharField(
        label="Why are you signing? (optional)",
        max_length=MAX_COMMENT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # Real people never see this field (hidden off-screen, skipped by keyboard and readers).
    hp_website = forms.CharField(
        label="Leave this field empty",
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, action: Action, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.action = action
        if action.kind == ActionKind.PETITION:
            self.fields["family_name"].required = True
            self.fields["family_name"].error_messages["required"] = "Enter your last name."
        else:
            del self.fields["comment"]
        self.questions: list[Question] = (
            list(action.questions.all()) if action.kind == ActionKind.FORM else []
        )
        for question in self.questions:
            self.fields[question.field_name] = question_field(question)

    @property
    def honeypot_tripped(self) -> bool:
        return bool((self.data.get(HONEYPOT_FIELD) or "").strip())

    def visible_person_fields(self):
        return [self[name] for name in ("given_name", "family_name", "email", "postal_code")]

    def question_fields(self):
        return [self[q.field_name] for q in self.questions]

    def clean_postal_code(self) -> str:
        code = self.cleaned_data["postal_code"].strip().upper()
        if re.fullmatch(r"[\d\- ]+", code):
            if not US_ZIP_RE.match(code.replace(" ", "")):
                raise ValidationError("Enter a 5-digit ZIP code, like 80202.")
            if lookup_postal_code(code[:5], "US") is None:
                raise ValidationError("We couldn't find that ZIP code. Check it and try again.")
        return code

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if data.get("sms_consent") and not data.get("phone") and "phone" not in self.errors:
            self.add_error("phone", "Enter your mobile number to get texts, or untick the box.")
        if "email" in data and not self.has_error("phone"):
            # Email and phone are checked here, once: the services trust the validated copy.
            try:
                self._person = PersonData(
                    email=data["email"],
                    phone=data.get("phone", ""),
                    given_name=data.get("given_name", "").strip(),
                    family_name=data.get("family_name", "").strip(),
                    postal_code=data.get("postal_code", ""),
                    sms_consent=True if data.get("sms_consent") and data.get("phone") else None,
                ).validated()
            except ValidationError as exc:
                self.apply_errors(exc)
            else:
                data["email"], data["phone"] = self._person.email, self._person.phone
        return data

    def person_data(self, *, source: str) -> PersonData:
        """The submitter, validated by clean(); `source` is the page's own label."""
        return replace(self._person, source=source[:200])

    def answers(self) -> dict[str, Any]:
        return {str(q.pk): self.cleaned_data.get(q.field_name) for q in self.questions}

    def apply_errors(self, exc: ValidationError) -> None:
        """Show a service's ValidationError on the matching fields."""
        errors_to_form(self, exc)


class ActionForm(forms.ModelForm):
    targets_text = forms.CharField(
        label="Petition targets",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Who the petition is addressed to, one per line (e.g. “Governor Ana Ruiz”).",
    )

    class Meta:
        model = Action
        fields = [
            "kind",
            "campaign",
            "title",
            "slug",
            "summary",
            "description",
            "petition_text",
            "pledge_headline",
            "goal",
            "button_label",
            "thank_you_message",
            "status",
        ]
        labels = {
            "slug": "Web address",
            "summary": "One-line summary",
            "description": "Description",
            "petition_text": "Petition text",
            "pledge_headline": "The pledge",
            "goal": "Goal",
            "button_label": "Button label",
        }
        help_texts = {
            "slug": "The end of the link: /act/<this>/. Leave blank to make one from the title.",
            "description": "Basic formatting (paragraphs, bold, links, lists) is kept.",
            "pledge_headline": "Pledges only: the promise, e.g. “I will vote on November 4”.",
            "goal": "Shown as a progress bar. Leave blank for automatic milestones.",
            "button_label": "Leave blank for “Add your name”, “I pledge” or “Sign up”.",
            "thank_you_message": "Shown after someone acts, and in their thank-you email.",
        }
        widgets = {
            "description": RichTextarea(attrs={"rows": 6}),
            "petition_text": forms.Textarea(attrs={"rows": 4}),
            "thank_you_message": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["campaign"].queryset = Campaign.objects.order_by("name")
        self.fields["campaign"].empty_label = "— no campaign —"
        self.fields["status"].choices = ActionStatus.choices
        if self.instance.pk:
            self.fields["targets_text"].initial = "\n".join(
                t.get("name", "") for t in self.instance.targets
            )

    def clean_slug(self) -> str:
        slug = self.cleaned_data.get("slug", "")
        if slug in RESERVED_SLUGS:
            raise ValidationError("That web address is reserved. Choose another.")
        return slug

    def service_values(self) -> dict[str, Any]:
        values = {name: self.cleaned_data.get(name) for name in self.Meta.fields}
        values["targets"] = targets_from_text(self.cleaned_data.get("targets_text", ""))
        for name in ("slug", "summary", "description", "petition_text", "pledge_headline"):
            values[name] = values[name] or ""
        for name in ("button_label", "thank_you_message"):
            values[name] = values[name] or ""
        return values

    def apply_errors(self, exc: ValidationError) -> None:
        for field, messages in exc.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)
