"""Which column holds what: the field catalogue, header auto-mapping, and row → PersonData."""

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from rallypoint.people.models import EmailStatus, PostalAddress
from rallypoint.people.services import PersonData

IGNORE = ""
CUSTOM = "custom"


@dataclass(frozen=True)
class Field:
    code: str
    label: str
    aliases: tuple[str, ...] = ()
    max_length: int | None = None
    repeatable: bool = False  # several columns may map here (address lines, tags, custom)


_address_limit = PostalAddress._meta.get_field("locality").max_length

FIELDS: tuple[Field, ...] = (
    Field("email", "Email", ("email", "e-mail", "email address", "e-mail address", "mail")),
    Field(
        "phone",
        "Phone",
        ("phone", "phone number", "mobile", "mobile phone", "cell", "cell phone", "telephone"),
    ),
    Field(
        "given_name",
        "First name",
        ("first name", "firstname", "given name", "given_name", "first", "fname", "forename"),
    ),
    Field(
        "family_name",
        "Last name",
        ("last name", "lastname", "surname", "family name", "last", "lname"),
    ),
    Field("full_name", "Full name (split at the first space)", ("name", "full name")),
    Field("additional_name", "Middle name", ("middle name", "middle", "additional name")),
    Field("honorific_prefix", "Title (Ms, Dr…)", ("prefix", "salutation", "honorific")),
    Field("honorific_suffix", "Suffix (Jr, III…)", ("suffix",)),
    Field(
        "address_line",
        "Street address",
        (
            "address",
            "street",
            "street address",
            "address 1",
            "address line 1",
            "address1",
            "address 2",
            "address line 2",
            "address2",
            "address_line_1",
            "address_line_2",
        ),
        max_length=200,
        repeatable=True,
    ),
    Field("locality", "City", ("city", "town", "locality"), max_length=_address_limit),
    Field(
        "region",
        "State / region",
        ("state", "region", "province", "state code"),
        max_length=_address_limit,
    ),
    Field(
        "postal_code",
        "ZIP / postal code",
        ("zip", "zipcode", "zip code", "postal code", "postcode", "postal", "zip5"),
        max_length=20,
    ),
    Field("country", "Country", ("country", "country code")),
    Field("tags", "Tags (separated by , ; or |)", ("tags", "tag", "labels"), repeatable=True),
    Field(
        "email_status",
        "Email status (subscribed / unsubscribed)",
        ("email status", "subscription", "subscription status", "email subscription"),
    ),
    Field(
        "sms_consent",
        "Agreed to texts (yes / no)",
        ("sms consent", "sms opt in", "sms optin", "text opt in", "sms permission"),
    ),
    Field("source", "Source", ("source",), max_length=200),
    Field("language", "Language", ("language", "languages"), max_length=40, repeatable=True),
    Field(CUSTOM, "Custom field (named after the column)", (), max_length=1000, repeatable=True),
)
FIELDS_BY_CODE = {f.code: f for f in FIELDS}
FIELD_CHOICES = [(IGNORE, "— don't import —"), *((f.code, f.label) for f in FIELDS)]


def header_key(header: str) -> str:
    """'E-Mail_Address ' → 'e mail address'; keeps hyphenless aliases comparable."""
    text = header.strip().lower().replace("_", " ").replace("-", " ")
    return re.sub(r"\s+", " ", text)


_ALIASES = {header_key(alias): f.code for f in FIELDS for alias in f.aliases}


def auto_map(headers: list[str]) -> dict[str, str]:
    """{column index: field code} from header names; each single field is used once, the first
    matching column wins; unknown columns are left out."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for index, header in enumerate(headers):
        code = _ALIASES.get(header_key(header))
        if code is None:
            continue
        if code in used and not FIELDS_BY_CODE[code].repeatable:
            continue
        mapping[str(index)] = code
        used.add(code)
    return mapping


def mapping_problems(mapping: dict[str, str], headers: list[str]) -> list[str]:
    """What's wrong with a column choice, in words; empty when it can run."""
    problems = []
    codes = [code for code in mapping.values() if code]
    unknown = sorted({c for c in codes if c not in FIELDS_BY_CODE})
    if unknown:
        problems.append(f"Unknown field: {', '.join(unknown)}.")
    if "email" not in codes and "phone" not in codes:
        problems.append("Choose the column with email addresses or the one with phone numbers.")
    for code in sorted(set(codes)):
        field = FIELDS_BY_CODE.get(code)
        if field and not field.repeatable and codes.count(code) > 1:
            problems.append(f"Only one column can be “{field.label}”.")
    if "full_name" in codes and ({"given_name", "family_name"} & set(codes)):
        problems.append("Use either a full-name column or first/last-name columns, not both.")
    for index in mapping:
        if not index.isdigit() or int(index) >= len(headers):
            problems.append(f"There is no column {index}.")
    return problems


class RowProblem(ValueError):
    """A row that cannot be imported; the message is the reason shown in the error report."""


YES = {"1", "y", "yes", "true", "t", "x", "on", "opted in", "opt in", "subscribed"}
NO = {"0", "n", "no", "false", "f", "off", "opted out", "opt out", "unsubscribed"}
TAG_SPLIT = re.compile(r"[,;|]")
FORMULA_STARTS = {"=", "+", "-", "@"}
COUNTRY_ALIASES = {
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
}


@lru_cache(maxsize=1)
def _country_codes() -> dict[str, str]:
    # Imported here: the country names load phonenumbers' geocoder data (~180 MB), which only
    # files with a country column need.
    from rallypoint.people.countries import country_choices

    codes = {name.lower(): code for code, name in country_choices()}
    codes.update({code.lower(): code for code in phonenumbers.SUPPORTED_REGIONS})
    codes.update(COUNTRY_ALIASES)
    return codes


def _country(value: str) -> str:
    text = value.strip().lower()
    code = _country_codes().get(text) or _country_codes().get(text.rstrip("."))
    if code is None:
        raise RowProblem(f"Country: “{value[:40]}” isn't a country name or two-letter code.")
    return code


def _email_status(value: str) -> str | None:
    """Statuses from a file. "subscribed" is not a person's own choice, so it never brings back
    someone who unsubscribed (None = keep what we know; new addresses are subscribed)."""
    text = value.strip().lower()
    if text in {"", "subscribed", "yes", "true", "1", "opted in"}:
        return None
    if text in {"unsubscribed", "no", "false", "0", "opted out", "opt out"}:
        return EmailStatus.UNSUBSCRIBED
    if text in EmailStatus.values:
        return text
    raise RowProblem(f"Email status: “{value[:40]}” should be subscribed or unsubscribed.")


def person_data(values: list[str], mapping: dict[int, str], headers: list[str]) -> PersonData:
    """The PersonData a row describes. `mapping` is {column index: code} with int keys.
    Raises RowProblem for a wrong column count, an over-long cell or an unreadable value
    (email and phone syntax are checked later, by PersonData.validated)."""
    if len(values) != len(headers):
        raise RowProblem(
            f"Expected {len(headers)} columns, found {len(values)}"
            " (a missing or extra separator or quote?)."
        )
    data = PersonData()
    for index, code in mapping.items():
        value = values[index].strip()
        if not value:
            continue
        if value[0] == "'" and value[1:2] in FORMULA_STARTS:
            value = value[1:]  # defused by our exports (core.downloads.safe_cell)
        field = FIELDS_BY_CODE[code]
        if field.max_length is not None and len(value) > field.max_length:
            raise RowProblem(
                f"{headers[index][:60] or field.label}: longer than {field.max_length} characters."
            )
        if code == "address_line":
            data.address_lines.append(value)
        elif code == "tags":
            data.tags.extend(t.strip() for t in TAG_SPLIT.split(value) if t.strip())
        elif code == "full_name":
            given, _, family = value.partition(" ")
            data.given_name, data.family_name = given, family.strip()
        elif code == "country":
            data.country = _country(value)
        elif code == "email_status":
            data.email_status = _email_status(value)
        elif code == "sms_consent":
            lowered = value.lower()
            if lowered in YES:
                data.sms_consent = True
            elif lowered in NO:
                data.sms_consent = False
            else:
                raise RowProblem(f"{headers[index][:60]}: “{value[:40]}” should be yes or no.")
        elif code == "language":
            data.languages_spoken.append(value)
        elif code == CUSTOM:
            key = headers[index].strip()[:100] or f"column {index + 1}"
            data.custom_fields[key] = value
        else:
            setattr(data, code, value)
    return data
