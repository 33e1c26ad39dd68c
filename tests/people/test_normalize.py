"""people.normalize: what is accepted, what it becomes, and what a supporter is told."""

from collections import Counter

import pytest
from django.core.exceptions import ValidationError

from rallypoint.people.models import SHARE_CODE_ALPHABET, new_share_code, new_share_codes
from rallypoint.people.normalize import clean_email, clean_phone, display_phone
from rallypoint.people.services import PersonData


def refusal(function, *args):
    with pytest.raises(ValidationError) as caught:
        function(*args)
    return caught.value.code, caught.value.messages[0]


@pytest.mark.parametrize(
    "raw, kept",
    [
        ("ana.garcia@gmail.com", "ana.garcia@gmail.com"),
        ("  Ana.Garcia+petition@Gmail.com \n", "Ana.Garcia+petition@Gmail.com"),
        ("o'brien@example.org", "o'brien@example.org"),
        ("ana@münchen.de", "ana@münchen.de"),
        ("x" * 64 + "@" + ".".join(["a" * 60] * 3) + ".com", None),
    ],
)
def test_clean_email_keeps_the_address_as_entered(raw, kept):
    assert clean_email(raw) == (kept or raw)


@pytest.mark.parametrize(
    "raw, code, words",
    [
        ("", "required", "Enter an email address."),
        ("   ", "required", "Enter an email address."),
        ("a" * 250 + "@x.com", "too_long", "That email address is too long."),
        ("nobody", "invalid", "must have an @-sign"),
        ("a@b@gmail.com", "invalid", "after the @-sign"),
        ("a.@gmail.com", "invalid", "period immediately before the @-sign"),
        ("x@localhost", "invalid", "It should have a period"),
        ("x@" + "a" * 64 + ".com", "invalid", "so many characters"),
        ("\x00@gmail.com", "invalid", "U+0000"),
        ("\ud800@gmail.com", "invalid", "U+D800"),
        ("<script>@x.com", "invalid", "doesn't look right"),
    ],
)
def test_clean_email_refuses_with_a_message_a_supporter_can_act_on(raw, code, words):
    refused_code, message = refusal(clean_email, raw)
    assert refused_code == code
    assert words in message


@pytest.mark.parametrize(
    "raw", ["(212) 555-1234", "212.555.1234", "212-555-1234", "2125551234", "+1 212 555 1234"]
)
def test_plain_us_numbers_clean_to_e164(raw):
    assert clean_phone(raw) == ("+12125551234", "mobile")


@pytest.mark.parametrize(
    "raw, region, cleaned",
    [
        ("1-800-555-0199", "US", ("+18005550199", "toll-free")),
        ("+44 7911 123456", "US", ("+447911123456", "mobile")),
        ("020 7946 0958", "GB", ("+442079460958", "landline")),
        ("+39 06 1234 5678", "IT", ("+390612345678", "landline")),
        ("(212) 555-1234", "", ("+12125551234", "mobile")),
    ],
)
def test_clean_phone_reads_the_region_and_the_number_type(raw, region, cleaned):
    assert clean_phone(raw, region) == cleaned


@pytest.mark.parametrize(
    "raw, code, message",
    [
        ("", "required", "Enter a phone number."),
        ("1" * 41, "too_long", "That phone number is too long."),
        ("(123) 456-7890", "invalid", "That phone number isn't a real, dialable number."),
        ("555-01", "invalid", "That phone number isn't a real, dialable number."),
        ("call me", "invalid", "That doesn't look like a phone number."),
        ("212\x00555", "invalid", "That doesn't look like a phone number."),
        ("\ud800", "invalid", "That doesn't look like a phone number."),
        ("<b>1</b>", "invalid", "That doesn't look like a phone number."),
    ],
)
def test_clean_phone_refuses_with_a_message_a_supporter_can_act_on(raw, code, message):
    assert refusal(clean_phone, raw) == (code, message)


@pytest.mark.parametrize(
    "raw, region",
    [("(212) 555-1234 ext. 5", "US"), ("+39 06 1234 5678", "IT"), ("020 7946 0958", "GB")],
)
def test_validated_phone_type_is_the_type_of_the_stored_number(raw, region):
    """people.bulk stores PersonData.validated()'s phone_type instead of reading the E.164
    number again (as the one-person path does)."""
    data = PersonData(phone=raw, country=region).validated()
    assert data.phone_type == clean_phone(data.phone)[1]
    assert data.phone_type


def test_display_phone_national_at_home_international_abroad():
    assert display_phone("+12125551234") == "(212) 555-1234"
    assert display_phone("+442079460958") == "+44 20 7946 0958"
    assert display_phone("not a number") == "not a number"


def test_share_codes_are_distinct_and_from_the_alphabet():
    codes = new_share_codes(5000)
    assert len(codes) == len(set(codes)) == 5000
    assert all(len(c) == 10 and set(c) <= set(SHARE_CODE_ALPHABET) for c in codes)
    letters = Counter("".join(codes))
    assert set(letters) == set(SHARE_CODE_ALPHABET)
    # 50,000 letters, ~1,613 expected each: a biased mapping would be far off.
    assert all(1350 < n < 1880 for n in letters.values())
    assert len(new_share_code()) == 10
