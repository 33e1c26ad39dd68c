"""Clean and validate contact details at the edge, with messages a supporter can act on.

The answers are the libraries' own: every address goes through email_validator, every number
through phonenumbers, with no shortcut in front of them (bench/normalize.py measures what
they cost per call: tens of microseconds, a few percent of a signature's request).
"""

import phonenumbers
from django.core.exceptions import ValidationError
from email_validator import EmailNotValidError, validate_email

MAX_EMAIL_LENGTH = 254

PHONE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE: "landline",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "mobile",
    phonenumbers.PhoneNumberType.VOIP: "voip",
    phonenumbers.PhoneNumberType.TOLL_FREE: "toll-free",
}


def clean_email(raw: str) -> str:
    """The address as entered (trimmed), after checking its syntax; raises ValidationError."""
    address = (raw or "").strip()
    if not address:
        raise ValidationError("Enter an email address.", code="required")
    if len(address) > MAX_EMAIL_LENGTH:
        raise ValidationError("That email address is too long.", code="too_long")
    try:
        validate_email(address, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise ValidationError(f"That email address doesn't look right: {exc}", code="invalid")
    return address


# Misspellings of common mail domains seen in real sign-up lists → the domain that was meant.
TYPO_DOMAINS = {
    "gmial.com": "gmail.com",
    "gmai.com": "gmail.com",
    "gmal.com": "gmail.com",
    "gamil.com": "gmail.com",
    "gmaill.com": "gmail.com",
    "gnail.com": "gmail.com",
    "gmail.co": "gmail.com",
    "gmail.con": "gmail.com",
    "gmail.cm": "gmail.com",
    "hotmial.com": "hotmail.com",
    "hotmal.com": "hotmail.com",
    "hotmai.com": "hotmail.com",
    "hotamil.com": "hotmail.com",
    "hotmail.co": "hotmail.com",
    "hotmail.con": "hotmail.com",
    "yaho.com": "yahoo.com",
    "yahooo.com": "yahoo.com",
    "yhaoo.com": "yahoo.com",
    "yahoo.co": "yahoo.com",
    "yahoo.con": "yahoo.com",
    "outlok.com": "outlook.com",
    "outloo.com": "outlook.com",
    "outlook.co": "outlook.com",
    "iclod.com": "icloud.com",
    "icoud.com": "icloud.com",
    "icloud.co": "icloud.com",
    "aol.co": "aol.com",
    "aol.con": "aol.com",
    "comcast.ne": "comcast.net",
}


def email_typo_suggestion(address: str) -> str | None:
    """The address that was probably meant when its domain is a known misspelling
    ("ana@gmial.com" → "ana@gmail.com"), else None."""
    local, at, domain = (address or "").strip().rpartition("@")
    meant = TYPO_DOMAINS.get(domain.lower()) if at and local else None
    return f"{local}@{meant}" if meant else None


def email_key(address: str) -> str:
    """Matching key: trimmed and case-folded. Dots and +tags are kept (they can be real)."""
    return (address or "").strip().lower()


def clean_phone(raw: str, region: str = "US") -> tuple[str, str]:
    """(E.164 number, number type) for a possible number; raises ValidationError otherwise."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError("Enter a phone number.", code="required")
    if len(text) > 40:
        raise ValidationError("That phone number is too long.", code="too_long")
    try:
        parsed = phonenumbers.parse(text, region or "US")
    except phonenumbers.NumberParseException:
        raise ValidationError("That doesn't look like a phone number.", code="invalid")
    # number_type answers UNKNOWN for a number that is not valid (its documented contract), so
    # it is asked once instead of after is_valid_number, which walks the same patterns.
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
