"""Who someone is: the one place that matches submissions to people, batch-first.

`match_or_create_many(rows, ...)` matches (or creates) the person each row describes, in order,
with a handful of statements for the whole batch: one lookup per key type, then one write per
table. A single submission is a batch of one (`person_match`). The rule ("Trust first"):

- Anonymous rows (public forms, embeds, keyless API helpers, RSVPs, group joins) are matched by
  their email address alone when they give one, else by phone number. They may create a person
  and fill a known person's blanks; a name, address or contact that person has is never
  replaced, no new email or phone is attached to them, tags are never removed and an
  unsubscribed address or opted-out phone is never opted back in. What was not applied comes
  back as `kept_aside` (and is in the person's history).
- Trusted rows (organizers, imports, read-write API keys) are matched by email first, then by
  the phone number's most recently active owner (unless `update_by_phone=False`: then a new
  address with a known phone number makes a new person, as for anonymous rows); names and
  addresses are replaced unless `overwrite=False` (fill blanks only), contacts are attached.
- A new person whose phone number is already on someone else's record, or a person matched by
  a trusted row whose new phone number is, names that someone as `possible_duplicate_of`.

Rows are matched one after the other against what the rows before them did, so a batch gives the
same people, contacts, tags and results as the same rows matched one by one.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Value
from django.utils import timezone

from rallypoint.core.outbox import OutboxItem, outbox_record_many

from ..models import EmailAddress, EmailStatus, Person, PhoneNumber, PostalAddress
from ..normalize import email_key
from .batch import ConflictError, MatchBatch
from .data import PersonData, address_values
from .results import ChangeSource, MatchResult, MatchRules, Outcome

__all__ = [
    "ChangeSource",
    "MatchResult",
    "MatchRules",
    "Outcome",
    "PersonMatch",
    "act_details",
    "find_person",
    "match_or_create_many",
    "person_contacts_new",
    "person_events",
    "person_match",
    "person_match_or_create",
    "person_new",
]


def match_or_create_many(
    rows: Sequence[PersonData],
    *,
    trusted: bool = False,
    overwrite: bool = True,
    update_by_phone: bool = True,
    changed_by: ChangeSource | None = None,
    lines: Sequence[int] | None = None,
    record_events: bool = True,
) -> list[MatchResult]:
    """Match or create the person each row describes, in order; one result per row.

    Rows must come from `PersonData.validated()` (the edge validates once). Runs inside the
    caller's transaction (or its own): when a concurrent transaction takes one of the batch's
    new addresses between the lookup and the write, what the batch wrote is undone and it is
    matched again. `changed_by`: record each change of a known person in their history, naming
    the rows by `lines` (a file's line numbers; by default their positions in `rows`).

    `record_events`: each row's person events ("unsubscribe" when it unsubscribed a known
    address, then "person.created" or "person.updated") go to the outbox in the same
    transaction, in row order, with one INSERT for the batch. Imports pass False: a file's
    people are reported by the import's own job, not one event each."""
    if not rows:
        return []
    rules = MatchRules(trusted=trusted, overwrite=overwrite, update_by_phone=update_by_phone)
    for _attempt in range(3):
        with transaction.atomic(savepoint=False):
            try:
                results = MatchBatch(rows, rules, lines).run(changed_by=changed_by)
            except ConflictError:
                continue  # the batch's new people were deleted: match again
            if record_events:
                outbox_record_many(person_events(results))
            return results
    raise IntegrityError("Could not match or create the people of this batch.")


def person_events(results: Sequence[MatchResult]) -> list[OutboxItem]:
    """The outbox events of matched rows, in order (see `match_or_create_many`)."""
    events: list[OutboxItem] = []
    for result in results:
        # Only the table and the id are recorded: no need to read a person the batch did not build.
        subject = result.record if result.record is not None else Person(pk=result.person_id)
        if result.unsubscribed:
            events.append(("unsubscribe", subject, None))
        events.append(("person.created" if result.created else "person.updated", subject, None))
    return events


@dataclass(frozen=True)
class PersonMatch:
    """What matching did with one submission (see `MatchResult`)."""

    person: Person
    created: bool
    kept_aside: dict[str, Any] = field(default_factory=dict)
    possible_duplicate_of: int | None = None


def person_match(
    data: PersonData, *, trusted: bool = False, overwrite: bool = True, update_by_phone: bool = True
) -> PersonMatch:
    """Find the person `data` describes or create them, and merge what may be merged: a batch
    of one (see `match_or_create_many` for the rule). Anonymous unless `trusted=True`.
    Raises ValidationError for bad email/phone."""
    data = data.validated()
    (result,) = match_or_create_many(
        [data], trusted=trusted, overwrite=overwrite, update_by_phone=update_by_phone
    )
    return PersonMatch(
        person=result.person,
        created=result.created,
        kept_aside=result.kept_aside,
        possible_duplicate_of=result.possible_duplicate_of,
    )


def person_match_or_create(
    data: PersonData,
    *,
    overwrite: bool = True,
    trusted: bool = False,
    update_by_phone: bool = True,
) -> tuple[Person, bool]:
    """`person_match` for callers that need only (person, created). Anonymous unless
    `trusted=True` (see `match_or_create_many` for the two rules)."""
    match = person_match(
        data, trusted=trusted, overwrite=overwrite, update_by_phone=update_by_phone
    )
    return match.person, match.created


def act_details(match: PersonMatch, details: dict[str, Any]) -> dict[str, Any] | None:
    """An act's details with what matching kept aside (so what the visitor typed stays with
    their act); None when there is nothing to keep."""
    if match.kept_aside:
        details = {**details, "kept_aside": match.kept_aside}
    if match.possible_duplicate_of is not None:
        details = {**details, "possible_duplicate_of": match.possible_duplicate_of}
    return details or None


def find_person(*, email: str = "", phone: str = "") -> Person | None:
    """Email first (case-insensitive, trimmed), then phone (E.164; the most recently active
    owner), in one query."""
    key = email_key(email) if email else ""
    by_email = Person.objects.filter(email_addresses__address_normalized=key)
    by_phone = Person.objects.filter(phone_numbers__number=phone).order_by("-modified_at")
    if key and phone:
        either = (
            by_email.annotate(rank=Value(0))
            .order_by()
            .union(by_phone.annotate(rank=Value(1)).order_by(), all=True)
        )
        return either.order_by("rank", "-modified_at").first()
    if key:
        return by_email.first()
    if phone:
        return by_phone.first()
    return None


def person_new(data: PersonData) -> Person:
    """The unsaved person `data` (validated) describes, as matching creates them. For writers
    that store many new people at once (signatures written together)."""
    return MatchBatch.person_new(data)


def person_contacts_new(
    person: Person, data: PersonData
) -> tuple[EmailAddress | None, PhoneNumber | None, PostalAddress | None]:
    """The unsaved email address, phone number and postal address of a new (saved) person,
    each None when `data` has none. Tags are not included (`tag_add`)."""
    email = phone = address = None
    if data.email:
        email = EmailAddress(
            person=person,
            address=data.email,
            address_normalized=email_key(data.email),
            primary=True,
            status=data.email_status or EmailStatus.SUBSCRIBED,
        )
    if data.phone:
        phone = PhoneNumber(
            person=person,
            number=data.phone,
            number_type=data.phone_type,
            sms_capable=data.phone_type in {"mobile", "voip"},
            primary=True,
        )
        if data.sms_consent:
            phone.sms_consent, phone.sms_consent_at, phone.sms_capable = True, timezone.now(), True
    if data.has_address:
        values = data.address if data.address is not None else address_values(data)
        address = PostalAddress(person=person, primary=True, **values)
    return email, phone, address
