"""Clean and validate contact details at the edge, with messages a supporter can act on.

The answers are the libraries' own (email_validator, phonenumbers); two shortcuts make the
common cases cheaper without changing any answer (tests/people/test_normalize_equivalence.py
checks them against the plain library calls):

- an address whose part before the @ is plain dot-atom ASCII is accepted when the library has
  accepted its domain once (the domain check does not depend on the part before the @); any
  other address, and every rejection, goes through validate_email itself, with its message;
- a US number written as (NPA) NXX-XXXX (or with dots, dashes, spaces, a leading 1 or +1) is
  read without phonenumbers.parse, which would give the same PhoneNumber; validity is
  "number_type is known", which is what phonenumbers.is_valid_number computes.
"""

import re
from functools import lru_cache

import phonenumbers
from django.core.exceptions import ValidationError
from email_validator import EmailNotValidError, validate_email

MAX_EMAIL_LENGTH = 254
# RFC 5322 atext: the characters email_validator accepts unquoted before the @.
_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
_SIMPLE_EMAIL = re.compile(rf"([{_ATEXT}]+(?:\.[{_ATEXT}]+)*)@([A-Za-z0-9.-]+)")
_NANP_US = re.compile(r"(?:\+?1[ .-]?)?\(?([2-9]\d\d)\)?[ .-]?(\d{3})[ .-]?(\d{4})")

PHONE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE: "landline",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "mobile",
    phonenumbers.PhoneNumberType.VOIP: "voip",
    phonenumbers.PhoneNumberType.TOLL_FREE: "toll-free",
}


def _email_check(address: str) -> None:
    try:
        validate_email(address, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise ValidationError(f"That email address doesn't look right: {exc}", code="invalid")


@lru_cache(maxsize=4096)
def _domain_room(domain: str) -> int:
    """Characters the domain takes in the longest form email_validator measures (as given,
    normalized, IDNA ASCII), or -1 when the library rejects the domain."""
    try:
        info = validate_email(f"a@{domain}", check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError:
        return -1
    return max(len(domain), len(info.domain.encode()), len(info.ascii_domain.encode()))


def clean_email(raw: str) -> str:
    """The address as entered (trimmed), after checking its syntax; raises ValidationError."""
    address = (raw or "").strip()
    if not address:
        raise ValidationError("Enter an email address.", code="required")
    if len(address) > MAX_EMAIL_LENGTH:
        raise ValidationError("That email address is too long.", code="too_long")
    simple = _SIMPLE_EMAIL.fullmatch(address)
    if simple is not None:
        room = _domain_room(simple[2])
        if room >= 0 and len(simple[1]) + 1 + room <= MAX_EMAIL_LENGTH:
            return address
    _email_check(address)
    return address


def email_key(address: str) -> str:
    """Matching key: trimmed and case-folded. Dots and +tags are kept (they can be real)."""
    return (address or "").strip().lower()


def parse_phone(text: str, region: str) -> phonenumbers.PhoneNumber:
    """phonenumbers.parse(text, region), without its general parser for plain US numbers."""
    if region == "US" and (plain := _NANP_US.fullmatch(text)) is not None:
        return phonenumbers.PhoneNumber(
            country_code=1, national_number=int(plain[1] + plain[2] + plain[3])
        )
    return phonenumbers.parse(text, region)


def clean_phone(raw: str, region: str = "US") -> tuple[str, str]:
    """(E.164 number, number type) for a possible number; raises ValidationError otherwise."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError("Enter a phone number.", code="required")
    if len(text) > 40:
        raise ValidationError("That phone number is too long.", code="too_long")
    try:
        parsed = parse_phone(text, region or "US")
    except phonenumbers.NumberParseException:
        raise ValidationError("That doesn't look like a phone number.", code="invalid")
    # is_valid_number(parsed) is number_type(parsed) != UNKNOWN: one pattern walk, not two.
    number_type = phonenumbers.number_type(parsed)
    if number_type == phonenumbers.PhoneNumberType.UNKNOWN:
        raise ValidationError("That phone number isn't a real, dialable number.", code="invalid")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return e164, PHONE_TYPES.get(number_type, "")


def display_phone(e164: str) -> str:
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if parsed.country_code == 1:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
