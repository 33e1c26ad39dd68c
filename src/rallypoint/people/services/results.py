"""What matching returns, and how far a batch is trusted: small values, no behaviour."""

from dataclasses import dataclass, field
from typing import Any, Literal

from ..models import Person

Outcome = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class MatchRules:
    """How far a batch's rows are trusted (see the module's docstring)."""

    trusted: bool = False
    overwrite: bool = True
    update_by_phone: bool = True

    @property
    def by_phone(self) -> bool:
        """A row whose email address is new matches the phone number's owner."""
        return self.trusted and self.update_by_phone

    @property
    def replaces(self) -> bool:
        """Known names and addresses are replaced (else blanks are filled)."""
        return self.trusted and self.overwrite


@dataclass(frozen=True)
class ChangeSource:
    """Where a batch of changes came from ("import #12") and the user who made it (their id,
    or None): each known person the batch changes gets a "person.updated" entry in their
    history with this source."""

    source: str
    actor_id: int | None = None


@dataclass(frozen=True)
class MatchResult:
    """What matching did with one row.

    `outcome`: "created" (a new person), "updated" (a known person changed) or "unchanged"
    (a known person, nothing new). `kept_aside`: what an anonymous row said that was not written
    to the known person it matched (a different name, a phone number or address the record does
    not have, a request to resubscribe); the caller keeps it with the act, so nothing is lost.
    `possible_duplicate_of`: another person who has this row's phone number (organizers review
    the pair on the duplicates page). `unsubscribed`: the row unsubscribed a known address."""

    person_id: int
    outcome: Outcome
    kept_aside: dict[str, Any] = field(default_factory=dict)
    possible_duplicate_of: int | None = None
    unsubscribed: bool = False
    # The person's record as the batch left it (None for the new people of a big batch, which
    # are written without building a Person instance each).
    record: Person | None = field(default=None, repr=False, compare=False)

    @property
    def created(self) -> bool:
        return self.outcome == "created"

    @property
    def person(self) -> Person:
        """The person's record (read from the database when the batch did not build it)."""
        if self.record is not None:
            return self.record
        return Person.objects.get(pk=self.person_id)
