"""The shortcuts in people.normalize give exactly the plain library calls' answers."""

import string
from collections import Counter

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rallypoint.people import normalize
from rallypoint.people.models import SHARE_CODE_ALPHABET, new_share_code, new_share_codes
from rallypoint.people.normalize import (
    MAX_EMAIL_LENGTH,
    PHONE_TYPES,
    clean_email,
    clean_phone,
    parse_phone,
)
from rallypoint.people.services import PersonData

SETTINGS = settings(max_examples=3000, deadline=None)


def plain_clean_email(raw: str) -> str:
    """clean_email as written before the shortcut: validate_email on every address."""
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


def plain_clean_phone(raw: str, region: str = "US") -> tuple[str, str]:
    """clean_phone as written before the shortcuts: parse, is_valid_number, number_type."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError("Enter a phone number.", code="required")
    if len(text) > 40:
        raise ValidationError("That phone number is too long.", code="too_long")
    try:
        parsed = phonenumbers.parse(text, region or "US")
    except phonenumbers.NumberParseException:
        raise ValidationError("That doesn't look like a phone number.", code="invalid")
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError("That phone number isn't a real, dialable number.", code="invalid")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return e164, PHONE_TYPES.get(phonenumbers.number_type(parsed), "")


def outcome(function, *args):
    try:
        return ("ok", function(*args))
    except ValidationError as exc:
        return ("error", exc.code, exc.messages)


ATEXT = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"
DOMAINS = [
    "gmail.com",
    "Example.ORG",
    "example.org",
    "proton.me",
    "mail.co.uk",
    "localhost",
    "x.test",
    "host.invalid",
    "a.local",
    "b.onion",
    "c.arpa",
    "xn--mnchen-3ya.de",
    "xn--zz.com",
    "xn--fiq228c.cn",
    "a..b.com",
    ".a.com",
    "a.com.",
    "-a.com",
    "a-.com",
    "a.-b.com",
    "com",
    "a.b",
    "1.2.3.4",
    "a.123",
    "a" * 63 + ".com",
    "a" * 64 + ".com",
    ".".join(["a" * 60] * 4) + ".com",
    ".".join(["b" * 40] * 5) + ".org",
    "under_score.com",
    "",
]
locals_ = st.text(alphabet=ATEXT + ".", min_size=0, max_size=70)
domains = st.one_of(
    st.sampled_from(DOMAINS),
    st.text(alphabet=string.ascii_letters + string.digits + ".-", min_size=0, max_size=30),
    st.from_regex(
        r"[a-z0-9-]{1,20}(\.[a-z0-9-]{1,20}){0,3}\.(com|org|test|local|xn--p1ai)", fullmatch=True
    ),
)
addresses = st.one_of(
    st.builds(lambda local, domain: f"{local}@{domain}", locals_, domains),
    st.builds(
        lambda local, domain: f"{local}@{domain}",
        st.text(alphabet=ATEXT + '.@"\\ (),:;<>[]é\u0301ß\u200b', max_size=30),
        domains,
    ),
    st.text(max_size=40),
)


@SETTINGS
@given(address=addresses)
@example(address="x" * 64 + "@" + ".".join(["a" * 60] * 3) + ".com")
@example(address="x" * 70 + "@" + ".".join(["a" * 55] * 3) + ".com")
@example(address="postmaster@gmail.com")
@example(address="a.@gmail.com")
@example(address="a@b@gmail.com")
@example(address="A@gmail.com\n")
def test_clean_email_is_the_library_answer(address):
    assert outcome(clean_email, address) == outcome(plain_clean_email, address)


def test_the_domain_memo_is_reused_and_bounded():
    normalize._domain_room.cache_clear()
    for i in range(3):
        clean_email(f"someone{i}@gmail.com")
    info = normalize._domain_room.cache_info()
    assert (info.misses, info.hits) == (1, 2)
    assert info.maxsize is not None


us_texts = st.from_regex(normalize._NANP_US, fullmatch=True)
phone_texts = st.one_of(
    us_texts,
    st.text(alphabet=string.digits + " ()-.+xext#*", max_size=25),
    st.from_regex(r"\+[1-9][0-9]{0,2}[ -]?[0-9]{4,12}", fullmatch=True),
    st.text(max_size=20),
)
regions = st.sampled_from(["US", "CA", "GB", "DE", "FR", "IT", "MX", ""])


@SETTINGS
@given(text=us_texts)
def test_plain_us_numbers_parse_as_phonenumbers_parses_them(text):
    assert parse_phone(text, "US") == phonenumbers.parse(text, "US")


@SETTINGS
@given(text=phone_texts, region=regions)
@example(text="(212) 555-1234", region="US")
@example(text="+1 (212) 555-1234", region="US")
@example(text="1-800-555-0199", region="US")
@example(text="(123) 456-7890", region="US")
@example(text="555-01", region="US")
@example(text="+44 20 7946 0958", region="US")
@example(text="+39 06 1234 5678", region="US")
def test_clean_phone_is_the_library_answer(text, region):
    assert outcome(clean_phone, text, region) == outcome(plain_clean_phone, text, region)


@SETTINGS
@given(
    country_code=st.one_of(
        st.sampled_from(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)),
        st.integers(min_value=1, max_value=999),
    ),
    national_number=st.integers(min_value=0, max_value=10**15),
    leading_zero=st.sampled_from([None, True]),
)
def test_valid_means_known_type(country_code, national_number, leading_zero):
    number = phonenumbers.PhoneNumber(
        country_code=country_code,
        national_number=national_number,
        italian_leading_zero=leading_zero,
    )
    known = phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.UNKNOWN
    assert phonenumbers.is_valid_number(number) == known


@pytest.mark.parametrize("text", ["(212) 555-1234", "212.555.1234", "+1 212 555 1234"])
def test_plain_us_numbers_clean_to_e164(text):
    assert clean_phone(text)[0] == "+12125551234"


@SETTINGS
@given(text=phone_texts, region=regions)
@example(text="(212) 555-1234 ext. 5", region="US")
@example(text="+39 06 1234 5678", region="IT")
def test_validated_phone_type_is_the_type_of_the_stored_number(text, region):
    """people.bulk stores PersonData.validated()'s phone_type instead of reading the E.164
    number again (as people.services does for one person)."""
    try:
        data = PersonData(phone=text, country=region).validated()
    except ValidationError:
        return
    assert data.phone_type == clean_phone(data.phone)[1]


def test_share_codes_are_distinct_and_from_the_alphabet():
    codes = new_share_codes(5000)
    assert len(codes) == len(set(codes)) == 5000
    assert all(len(c) == 10 and set(c) <= set(SHARE_CODE_ALPHABET) for c in codes)
    letters = Counter("".join(codes))
    assert set(letters) == set(SHARE_CODE_ALPHABET)
    # 50,000 letters, ~1,613 expected each: a biased mapping would be far off.
    assert all(1350 < n < 1880 for n in letters.values())
    assert len(new_share_code()) == 10
