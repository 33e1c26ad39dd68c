"""What an entry point knows about someone (`PersonData`), validated once at the edge."""

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from rallypoint.core.geo import lookup_postal_code

from ..models import EmailStatus, Person
from ..normalize import clean_email, clean_phone

NAME_FIELDS = (
    "given_name",
    "family_name",
    "additional_name",
    "honorific_prefix",
    "honorific_suffix",
)
FIELD_LIMITS: dict[str, int] = {
    name: int(getattr(Person._meta.get_field(name), "max_length", 0) or 0)
    for name in (*NAME_FIELDS, "source")
}


@dataclass
class PersonData:
    """What an entry point knows about someone. Blank means "not given", never "erase"."""

    email: str = ""
    phone: str = ""
    given_name: str = ""
    family_name: str = ""
    additional_name: str = ""
    honorific_prefix: str = ""
    honorific_suffix: str = ""
    address_lines: list[str] = field(default_factory=list)
    locality: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = "US"
    latitude: float | None = None
    longitude: float | None = None
    # None: leave consent as it is. True: the person ticked "text me". False: explicit opt-out.
    sms_consent: bool | None = None
    # None: a new address is subscribed, an existing one keeps its status.
    # "subscribed"/"unsubscribed": an explicit choice by the person.
    email_status: str | None = None
    tags: list[str] = field(default_factory=list)
    custom_fields: dict[str, str] = field(default_factory=dict)
    languages_spoken: list[str] = field(default_factory=list)
    source: str = ""
    identifiers: list[str] = field(default_factory=list)
    # Set by validated(): the type phonenumbers gives `phone` ("mobile", "landline", …).
    phone_type: str = field(default="", repr=False, compare=False)
    # Set by validated(): the postal address as PostalAddress fields (`address_values`), worked
    # out where the row is validated (for an import, in the process that reads the file).
    address: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    # Set by validated(): this copy is checked, so the services it is handed to (the tool's, then
    # the matching) trust it instead of checking again. A `dataclasses.replace` copy keeps the
    # mark: replace only fields the code itself sets (such as `source`), never typed input.
    checked: bool = field(default=False, repr=False, compare=False)

    def validated(self) -> "PersonData":
        """A copy with email/phone cleaned; raises ValidationError keyed by field. Validating
        happens once, at the edge: an already validated copy is returned as it is."""
        if self.checked:
            return self
        errors: dict[str, list[str]] = {}
        email = phone = phone_type = ""
        if self.email.strip():
            try:
                email = clean_email(self.email)
            except ValidationError as exc:
                errors["email"] = exc.messages
        if self.phone.strip():
            try:
                phone, phone_type = clean_phone(self.phone, self.country or "US")
            except ValidationError as exc:
                errors["phone"] = exc.messages
        if not self.email.strip() and not self.phone.strip():
            errors["email"] = ["Enter an email address or a phone number."]
        for name, limit in FIELD_LIMITS.items():
            if len(getattr(self, name) or "") > limit:
                errors[name] = [f"Keep this under {limit} characters."]
        if len(self.postal_code) > 20:
            errors["postal_code"] = ["That postal code is too long."]
        if self.email_status and self.email_status not in EmailStatus.values:
            errors["email_status"] = [f"Unknown email status {self.email_status!r}."]
        if errors:
            raise ValidationError(errors)
        data = PersonData(**{**self.__dict__})
        data.email, data.phone, data.phone_type = email, phone, phone_type
        data.tags = [t.strip()[:100] for t in self.tags if t and t.strip()]
        data.address = address_values(data) if data.has_address else None
        data.checked = True
        return data

    @property
    def has_address(self) -> bool:
        return bool(self.postal_code or self.address_lines or self.locality)


def address_values(data: PersonData) -> dict[str, Any]:
    """The postal address `data` gives, as the PostalAddress fields (the place is looked up from
    the postal code when the caller gave no coordinates or locality)."""
    country = (data.country or "US").upper()[:2]
    postal_code = data.postal_code.strip()
    place = lookup_postal_code(postal_code, country) if postal_code else None
    latitude = data.latitude if data.latitude is not None else (place and place.latitude)
    longitude = data.longitude if data.longitude is not None else (place and place.longitude)
    return {
        "address_lines": [line.strip() for line in data.address_lines if line.strip()],
        "locality": data.locality.strip() or (place.locality if place else ""),
        "region": data.region.strip() or (place.region if place else ""),
        "postal_code": postal_code,
        "country": country,
        "latitude": latitude,
        "longitude": longitude,
        "accuracy": "rooftop" if data.latitude is not None else ("approximate" if place else ""),
    }
