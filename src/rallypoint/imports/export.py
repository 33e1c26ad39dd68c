"""People as CSV rows, streamed: constant memory however many there are. The columns are the
ones the importer recognises, so an export imported again matches everyone it contains.

Also the two reports of an import as CSV rows: its skipped rows and what it changed. Every cell
of every CSV we write, header included, goes through safe_cell."""

from collections.abc import Iterator

from django.db.models import QuerySet

from rallypoint.core.downloads import safe_cell, safe_row
from rallypoint.people.models import Person
from rallypoint.people.queries import people_with_contacts

from .models import ImportJob
from .queries import import_job_changes, import_job_errors

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
    yield safe_row(EXPORT_HEADER)
    for person in queryset.iterator(chunk_size=CHUNK_SIZE):
        yield person_row(person)


def skipped_rows(job: ImportJob) -> Iterator[list[str]]:
    """The header (line, reason, the file's own column names), then each skipped row with its
    line, the reason and its original cells, ready to fix and import again."""
    yield safe_row(["line", "reason", *job.headers])
    for error in import_job_errors(job).iterator(chunk_size=CHUNK_SIZE):
        yield safe_row([error.line, error.reason, *error.values])


CHANGES_HEADER = [
    "line",
    "change",
    "person_id",
    "name",
    "possible_duplicate_of",
    "duplicate_name",
]


def change_rows(job: ImportJob) -> Iterator[list[str]]:
    """What the import did, row by row: each person created or updated and each possible
    duplicate (a row whose phone number another person already had), in file order."""
    yield safe_row(CHANGES_HEADER)
    for change in import_job_changes(job).iterator(chunk_size=CHUNK_SIZE):
        person, other = change.person, change.duplicate_of
        yield safe_row(
            [
                change.line,
                change.outcome,
                change.person_id or "",
                person.full_name if person else "(deleted)",
                change.duplicate_of_id or "",
                (other.full_name if other else "(deleted)") if change.duplicate_of_id else "",
            ]
        )
