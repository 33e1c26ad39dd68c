"""Forms of the people pages. Contact details are checked with the same rules as matching."""

from django import forms
from django.core.exceptions import ValidationError

from rallypoint.core.geo import lookup_postal_code
from rallypoint.core.widgets import email_input, name_input, phone_input, postal_code_input

from .countries import country_choices
from .models import Person
from .normalize import clean_email, clean_phone, email_typo_suggestion
from .services import PersonData

NAME_MAX = Person._meta.get_field("given_name").max_length


class NoColonMixin:
    """Labels read as plain text ("Email", not "Email:")."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class EmailTypoMixin:
    """Public forms: an address whose domain is a known misspelling ("ana@gmial.com") is not
    taken at once. The form asks "Did you mean ana@gmail.com?" with a button that uses the
    suggestion, and keeps the address as typed when it is sent again unchanged (the hidden
    `email_checked` field; templates include people/_email_typo.html after the email field)."""

    email_suggestion = ""
    email_flagged = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email_checked"] = forms.CharField(
            required=False, max_length=254, widget=forms.HiddenInput
        )
        suggested = self.data.get(self.add_prefix("email_suggested")) if self.is_bound else None
        if suggested:
            self.data = self.data.copy()
            self.data[self.add_prefix("email")] = suggested

    def clean(self):
        data = super().clean()
        email = (data.get("email") or "").strip()
        suggestion = email_typo_suggestion(email) if email else None
        kept = (data.get("email_checked") or "").strip().lower() == email.lower()
        if suggestion and not kept:
            self.email_suggestion, self.email_flagged = suggestion, email
            self.add_error(
                "email",
                f"Did you mean {suggestion}? Correct it, or send the form again to keep {email}.",
            )
        return data


def _postal_code_clean(postal_code: str, country: str) -> str:
    code = " ".join((postal_code or "").split()).upper()
    if country == "US":
        if not code:
            raise ValidationError("Enter your ZIP code, so we can tell you what's on nearby.")
        if lookup_postal_code(code, "US") is None:
            raise ValidationError(
                "We couldn't find that ZIP code. Enter a real 5-digit US ZIP code, or choose"
                " your country if you live outside the US."
            )
        return code[:5]
    if len(code) > 20:
        raise ValidationError("That postal code is too long.")
    return code


class JoinForm(NoColonMixin, EmailTypoMixin, forms.Form):
    given_name = forms.CharField(
        label="First name",
        max_length=NAME_MAX,
        widget=name_input("given-name"),
    )
    family_name = forms.CharField(
        label="Last name",
        max_length=NAME_MAX,
        required=False,
        widget=name_input("family-name"),
    )
    email = forms.CharField(
        label="Email",
        max_length=254,
        widget=email_input(),
    )
    country = forms.ChoiceField(label="Country", choices=country_choices, initial="US")
    postal_code = forms.CharField(
        label="ZIP / postal code",
        max_length=20,
        required=False,
        widget=postal_code_input(),
    )
    phone = forms.CharField(
        label="Mobile phone (optional)",
        max_length=40,
        required=False,
        widget=phone_input(),
    )
    sms_consent = forms.BooleanField(
        label="Yes, text me campaign updates. Message and data rates may apply; reply STOP to end.",
        required=False,
    )
    # Left empty by people; bots fill every field. Hidden from view and from screen readers.
    website = forms.CharField(required=False, label="Leave this empty")

    def clean_email(self) -> str:
        return clean_email(self.cleaned_data["email"])

    def clean(self):
        data = super().clean()
        country = data.get("country") or "US"
        if "postal_code" in data:
            try:
                data["postal_code"] = _postal_code_clean(data["postal_code"], country)
            except ValidationError as exc:
                self.add_error("postal_code", exc)
        phone = data.get("phone", "")
        if phone:
            try:
                data["phone"] = clean_phone(phone, country)[0]
            except ValidationError as exc:
                self.add_error("phone", exc)
        elif data.get("sms_consent"):
            self.add_error("phone", "Add your mobile number to get text messages.")
        return data

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))

    def person_data(self, *, source: str = "join page") -> PersonData:
        data = self.cleaned_data
        return PersonData(
            email=data["email"],
            phone=data.get("phone", ""),
            given_name=data["given_name"].strip(),
            family_name=data.get("family_name", "").strip(),
            postal_code=data.get("postal_code", ""),
            country=data.get("country") or "US",
            # Consent only when ticked; an unticked box leaves earlier consent as it was.
            sms_consent=True if data.get("sms_consent") and data.get("phone") else None,
            source=source,
        )


class PeopleSearchForm(NoColonMixin, forms.Form):
    q = forms.CharField(
        label="Name, email or phone",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Search people"}),
    )
    tag = forms.CharField(label="Tag", required=False, max_length=100)
    postal_code = forms.CharField(label="ZIP / postal code", required=False, max_length=20)
    region = forms.CharField(label="State / region", required=False, max_length=100)
    sort = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)

    def filters(self) -> dict[str, str]:
        if not self.is_valid():
            return {}
        return {k: (v or "").strip() for k, v in self.cleaned_data.items()}


class TagAddForm(NoColonMixin, forms.Form):
    name = forms.CharField(label="Add a tag", max_length=100)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError("A tag needs a name.")
        return name


class PersonEditForm(NoColonMixin, forms.ModelForm):
    class Meta:
        model = Person
        fields = [
            "honorific_prefix",
            "given_name",
            "additional_name",
            "family_name",
            "honorific_suffix",
            "source",
            "public_display",
        ]
        labels = {
            "honorific_prefix": "Prefix",
            "given_name": "First name",
            "additional_name": "Middle name",
            "family_name": "Last name",
            "honorific_suffix": "Suffix",
            "public_display": "Show their first name on public pages (leaderboards, feeds)",
        }

    def clean(self):
        data = super().clean()
        for name in self.Meta.fields:
            if isinstance(data.get(name), str):
                data[name] = data[name].strip()
        return data


class ContactAddForm(NoColonMixin, forms.Form):
    """An organizer adds an email, a phone or a postal address they were given."""

    # Typed by an organizer about someone else: no autofill from the organizer's own details.
    email = forms.CharField(
        label="Email", required=False, max_length=254, widget=email_input(autocomplete="off")
    )
    phone = forms.CharField(
        label="Phone", required=False, max_length=40, widget=phone_input(autocomplete="off")
    )
    sms_consent = forms.BooleanField(label="They agreed to get text messages", required=False)
    country = forms.ChoiceField(label="Country", choices=country_choices, initial="US")
    postal_code = forms.CharField(label="ZIP / postal code", required=False, max_length=20)

    def clean(self):
        data = super().clean()
        country = data.get("country") or "US"
        if data.get("email"):
            try:
                data["email"] = clean_email(data["email"])
            except ValidationError as exc:
                self.add_error("email", exc)
        if data.get("phone"):
            try:
                data["phone"] = clean_phone(data["phone"], country)[0]
            except ValidationError as exc:
                self.add_error("phone", exc)
        elif data.get("sms_consent"):
            self.add_error("phone", "Add the phone number they agreed to get texts on.")
        if data.get("postal_code"):
            try:
                data["postal_code"] = _postal_code_clean(data["postal_code"], country)
            except ValidationError as exc:
                self.add_error("postal_code", exc)
        if not any(data.get(k) for k in ("email", "phone", "postal_code")) and not self.errors:
            raise ValidationError("Enter an email, a phone number or a postal code to add.")
        return data


class MergeSearchForm(NoColonMixin, forms.Form):
    q = forms.CharField(label="Find the other person", required=False, max_length=200)
