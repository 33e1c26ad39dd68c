"""People as CSV rows, streamed: constant memory however many there are. The columns are the
ones the importer recognises, so an export imported again matches everyone it contains."""

import re
from collections.abc import Iterator

from django.db.models import QuerySet

from rallypoint.people.models import Person
from rallypoint.people.queries import people_with_contacts

EXPORT_HEADER = [
    "email",
    "phone",
    "first_name",
    "last_name",
    "address_line_1",
    "address_line_2",
    "city",
    "state",
    "zip",
    "country",
    "tags",
    "email_status",
    "sms_consent",
    "source",
    "created_at",
    "rallypoint_id",
]
CHUNK_SIZE = 2000
_PHONE_LIKE = re.compile(r"[+-][\d\s().-]*")


def safe_cell(value: str) -> str:
    """Stop a spreadsheet from running a cell as a formula (=, @, +, - at the start), but leave
    phone numbers like +12025550123 as they are."""
    if value and (value[0] in "=@\t\r" or (value[0] in "+-" and not _PHONE_LIKE.fullmatch(value))):
        return "'" + value
    return value


def person_row(person: Person) -> list[str]:
    emails = list(person.email_addresses.all())
    phones = list(person.phone_numbers.all())
    addresses = list(person.postal_addresses.all())
    email = emails[0] if emails else None
    phone = phones[0] if phones else None
    address = addresses[0] if addresses else None
    lines = list(address.address_lines) if address else []
    values = [
        email.address if email else "",
        phone.number if phone else "",
        person.given_name,
        person.family_name,
        lines[0] if lines else "",
        ", ".join(lines[1:]),
        address.locality if address else "",
        address.region if address else "",
        address.postal_code if address else "",
        address.country if address else "",
        ", ".join(t.tag.name for t in person.taggings.all()),
        email.status if email else "",
        ("yes" if phone.sms_consent else "no") if phone else "",
        person.source,
        person.created_at.isoformat(timespec="seconds"),
        str(person.uuid),
    ]
    return [safe_cell(str(v)) for v in values]


def export_rows(people: QuerySet[Person] | None = None) -> Iterator[list[str]]:
    """The header, then one row per person (primary email, phone and address), oldest first."""
    ids = (people if people is not None else Person.objects.all()).values("pk")
    queryset = people_with_contacts().filter(pk__in=ids).order_by("pk")
    yield EXPORT_HEADER
    for person in queryset.iterator(chunk_size=CHUNK_SIZE):
        yield person_row(person)
