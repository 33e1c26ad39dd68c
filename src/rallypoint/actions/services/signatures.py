"""Supporters put their names to actions: signatures, pledges and sign-up form answers.

There is one write: `signatures_write(signatures)`, for checked signatures (`signature_check`),
inside a transaction. `submission_record` is a batch of one in its own transaction. The public
page, the embedded widget and the API's record helper call `submission_record_together`: the
checks run in the request's thread, then the write joins those of other requests arriving at
the same moment (`core.concurrency.write_together`), and `submissions_record` writes the group
in one transaction through the same `signatures_write`. If anything in the group fails, the
group is rolled back whole and each signature is written alone, so only the request whose
signature failed sees its error.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from rallypoint.core.concurrency import write_alone, write_grouped_or_alone, write_together
from rallypoint.core.outbox import OutboxItem, outbox_record_many
from rallypoint.core.tasks import enqueue_on_commit
from rallypoint.ledger.services import (
    ActToRecord,
    act_channel,
    activities_record,
    referrers_of_codes,
)
from rallypoint.people.models import Person
from rallypoint.people.referral import Referral
from rallypoint.people.services import (
    PersonData,
    PersonMatch,
    act_details,
    match_or_create_many,
)

from ..models import Action, ActionKind, ActionStatus, Submission
from ..tasks import thank_you_send_many
from .questions import answers_clean

MAX_COMMENT = 2000


@dataclass(frozen=True)
class SubmissionResult:
    """What recording one signature did. `created`: False when this person had already
    signed the petition or pledge (nothing new was written, no second act)."""

    submission: Submission
    person: Person
    created: bool
    person_created: bool


@dataclass
class Signature:
    """A checked submission waiting to be written (`signature_check`)."""

    action: Action
    person_data: PersonData  # validated
    answers: dict[str, Any]
    comment: str
    referral: Referral | None
    source: str
    at: datetime
    send_email: bool = True


def signature_check(
    *,
    action: Action,
    person_data: PersonData,
    answers: dict[Any, Any] | None = None,
    comment: str = "",
    referral: Referral | None = None,
    source: str = "page",
    at: datetime | None = None,
    send_email: bool = True,
) -> Signature:
    """Everything `submission_record` checks before it writes; raises ValidationError (keyed
    by field) for a closed action or bad input."""
    if action.status != ActionStatus.LIVE:
        raise ValidationError(
            {"__all__": [f"This {action.get_kind_display().lower()} is closed to new names."]}
        )
    errors: dict[str, list[str]] = {}
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = [f"Keep your comment under {MAX_COMMENT} characters."]
    questions = list(action.questions.all()) if action.kind == ActionKind.FORM else []
    cleaned_answers: dict[str, Any] = {}
    try:
        cleaned_answers = answers_clean(questions, answers)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        person_data = person_data.validated()
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return Signature(
        action=action,
        person_data=person_data,
        answers=cleaned_answers,
        comment=comment,
        referral=referral,
        source=source,
        at=at or timezone.now(),
        send_email=send_email,
    )


def submission_record(
    *, action: Action, person_data: PersonData, **options: Any
) -> SubmissionResult:
    """Put a person's name to an action.

    Matches or creates the person, stores the submission, writes the ledger act (with referrer,
    channel and recruitment edge) and queues the thank-you email after commit.
    Raises ValidationError (keyed by field) for a closed action or bad input.
    `options` are those of `signature_check`: answers, comment, referral, source ("page"),
    at (now) and send_email (True).
    """
    return write_alone(
        signatures_write, signature_check(action=action, person_data=person_data, **options)
    )


def submission_record_together(**kwargs: Any) -> SubmissionResult:
    """`submission_record` for web requests and the API's record helper: checked in the
    caller's thread, then written with the signatures of other requests arriving at the same
    moment in this process (at most SIGNATURE_BATCH_MAX at once; a lone request writes its own
    at once). Raises ValidationError as `submission_record` does, and Busy when its turn did
    not come within WRITE_WAIT_SECONDS."""
    signature = signature_check(**kwargs)
    return write_together(
        submissions_record, signature, max_batch=int(settings.SIGNATURE_BATCH_MAX)
    )


def submissions_record(signatures: list[Signature]) -> list[SubmissionResult | Exception]:
    """Write several checked signatures at once: what `submission_record` writes for each, in
    one transaction. Returns each one's result, or the exception it raised when written alone.

    If anything in the shared transaction fails (one bad signature, a concurrent request that
    took an address a moment ago, a deadlock), it is rolled back whole and every signature is
    written alone, in its own transaction."""
    return write_grouped_or_alone(signatures_write, signatures)


def signatures_write(signatures: list[Signature]) -> list[SubmissionResult]:
    """The write of checked signatures, in the caller's transaction: match or create each
    person (with their person events), store the submissions (one INSERT), record their outbox
    events (one INSERT), write the acts with their referrers and recruitment edges
    (`ledger.activities_record`) and queue the thank-you emails (one task).
    A person who already signed a petition or pledge gets their earlier submission back
    (`created=False`); a sign-up form sent again keeps the new answers and counts once."""
    matches = _people_match(signatures)
    referrers = referrers_of_codes([s.referral.code for s in signatures if s.referral])
    counted = _counted_submissions(signatures, matches)
    new: list[Submission] = []
    results: list[tuple[Submission, bool]] = []
    for signature, match in zip(signatures, matches, strict=True):
        action, person = signature.action, match.person
        key = (action.pk, person.pk)
        earlier = counted.get(key)
        if earlier is not None and action.once_per_person:
            results.append((earlier, False))
            continue
        referrer = _referrer(referrers, signature.referral, person)
        submission = Submission(
            **_submission_values(signature, person, referrer), counted=earlier is None
        )
        if earlier is None:
            counted[key] = submission
        new.append(submission)
        results.append((submission, True))
    Submission.objects.bulk_create(new)
    events: list[OutboxItem] = []
    acts = []
    thanks = []
    for signature, match, (submission, created) in zip(signatures, matches, results, strict=True):
        if not created:
            continue
        events.append((_event_type(signature.action), submission, None))
        if submission.counted:
            acts.append(_act(signature, match, submission))
            if signature.send_email and signature.person_data.email:
                thanks.append([submission.pk, signature.person_data.email])
    outbox_record_many(events)
    activities_record(acts)
    if thanks:
        enqueue_on_commit(thank_you_send_many, thanks)
    return [
        SubmissionResult(
            submission=submission,
            person=match.person,
            created=created,
            person_created=match.created,
        )
        for match, (submission, created) in zip(matches, results, strict=True)
    ]


def _people_match(signatures: list[Signature]) -> list[PersonMatch]:
    """The people of the signatures, matched or created together (anonymous rules: what a
    visitor typed never replaces a known person's details). Matching records the person
    events ("person.created", "person.updated", "unsubscribe") in this transaction."""
    return [
        PersonMatch(
            person=result.person,
            created=result.created,
            kept_aside=result.kept_aside,
            possible_duplicate_of=result.possible_duplicate_of,
        )
        for result in match_or_create_many([s.person_data for s in signatures])
    ]


def _counted_submissions(
    signatures: list[Signature], matches: list[PersonMatch]
) -> dict[tuple[int, int], Submission]:
    """The counted submissions of the people who were known before (one query): nobody can
    have signed as a person who did not exist a moment ago."""
    known = {
        (s.action.pk, m.person.pk)
        for s, m in zip(signatures, matches, strict=True)
        if not m.created
    }
    if not known:
        return {}
    rows = Submission.objects.filter(
        counted=True,
        action_id__in={action_id for action_id, _ in known},
        person_id__in={person_id for _, person_id in known},
    ).order_by()
    return {(s.action_id, s.person_id): s for s in rows if (s.action_id, s.person_id) in known}


def _referrer(
    referrers: dict[str, Person], referral: Referral | None, person: Person
) -> Person | None:
    """The person behind the referral's share code; None for unknown codes and self-referral."""
    referrer = referrers.get(referral.code) if referral and referral.code else None
    return None if referrer is None or referrer.pk == person.pk else referrer


def _submission_values(
    signature: Signature, person: Person, referrer: Person | None
) -> dict[str, Any]:
    channel = act_channel(signature.referral)
    return {
        "action": signature.action,
        "person": person,
        "answers": signature.answers,
        "comment": signature.comment,
        "referrer": referrer,
        "channel": channel if referrer or channel != "direct" else "",
        "source": signature.source[:20],
        "created_at": signature.at,
    }


def _act(signature: Signature, match: PersonMatch, submission: Submission) -> ActToRecord:
    """The ledger act of a new counted submission."""
    action = signature.action
    return ActToRecord(
        person=match.person,
        kind=action.ledger_kind,
        at=signature.at,
        campaign=action.campaign,
        target=submission,
        referral=signature.referral,
        referrer=submission.referrer,
        person_created=match.created,
        details=act_details(match, {"action": action.pk}),
    )


def _event_type(action: Action) -> str:
    return "submission" if action.kind == ActionKind.FORM else "signature"
