"""Writes of the actions tool: organizers shape actions, supporters put their names to them.

`submission_record` is the one path for a signature, pledge or form sign-up, used by the demo
and the API; the public page and the embedded widget call `submission_record_together`, which
checks the same way and writes signatures that arrive at the same moment together
(`submissions_record`), storing what `submission_record` would store for each."""

import threading
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import nh3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.text import slugify

from rallypoint.core.audit import log_action
from rallypoint.core.concurrency import Together
from rallypoint.core.mail import email_queue
from rallypoint.core.statements import Select, insert
from rallypoint.core.tasks import enqueue_many_on_commit, enqueue_on_commit
from rallypoint.ledger.services import (
    act_channel,
    activity_new,
    activity_record,
    recruit_credit_new,
    recruitment_new,
    referrers_of_codes,
    resolve_referrer,
)
from rallypoint.people.models import EmailAddress, Person
from rallypoint.people.normalize import email_key
from rallypoint.people.services import (
    PersonData,
    act_details,
    person_contacts_new,
    person_match,
    person_new,
)
from rallypoint.sharing.referral import Referral
from rallypoint.webhooks.services import webhook_emit

from .links import action_share_url, dashboard_url
from .models import Action, ActionKind, ActionStatus, Question, QuestionKind, Submission
from .queries import action_page_forget
from .tasks import thank_you_send

ALLOWED_TAGS = {"p", "br", "strong", "em", "b", "i", "u", "a", "ul", "ol", "li", "h2", "h3"}
ALLOWED_TAGS |= {"blockquote"}
RESERVED_SLUGS = {"organize", "embed", "new"}
MAX_COMMENT = 2000
MAX_TEXT_ANSWER = 2000

ACTION_FIELDS = (
    "kind",
    "campaign",
    "title",
    "slug",
    "summary",
    "description",
    "targets",
    "petition_text",
    "pledge_headline",
    "status",
    "goal",
    "thank_you_message",
    "button_label",
)


def html_clean(text: str) -> str:
    """Organizer rich text, with only harmless formatting and links kept."""
    return nh3.clean(text or "", tags=ALLOWED_TAGS, link_rel="noopener nofollow").strip()


def targets_from_text(text: str) -> list[dict[str, str]]:
    """One target per line ("Governor Ana Ruiz") in OSDI's target[{name}] shape."""
    names = [line.strip()[:200] for line in (text or "").splitlines()]
    return [{"name": name} for name in dict.fromkeys(n for n in names if n)]


def slug_available(slug: str, *, exclude_pk: int | None = None) -> bool:
    if slug in RESERVED_SLUGS:
        return False
    qs = Action.objects.filter(slug=slug)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return not qs.exists()


def slug_suggest(title: str) -> str:
    base = slugify(title)[:90] or "action"
    slug, n = base, 2
    while not slug_available(slug):
        slug, n = f"{base}-{n}", n + 1
    return slug


def _validate_action(values: dict[str, Any], *, pk: int | None) -> None:
    errors: dict[str, list[str]] = {}
    if not (values.get("title") or "").strip():
        errors["title"] = ["Give the action a title."]
    slug = values.get("slug") or ""
    if slug and not slug_available(slug, exclude_pk=pk):
        errors["slug"] = ["That web address is taken. Choose another."]
    if values.get("kind") not in ActionKind.values:
        errors["kind"] = ["Choose petition, pledge or sign-up form."]
    if values.get("status") not in ActionStatus.values:
        errors["status"] = ["Choose draft, live or closed."]
    if (
        values.get("kind") == ActionKind.PLEDGE
        and not (values.get("pledge_headline") or "").strip()
    ):
        errors["pledge_headline"] = ["A pledge needs its promise, e.g. “I will vote on Nov 4”."]
    if errors:
        raise ValidationError(errors)


def action_create(
    *, actor: Any, title: str, kind: str = ActionKind.PETITION, **values: Any
) -> Action:
    """A new action (a draft unless status says otherwise)."""
    unknown = set(values) - set(ACTION_FIELDS)
    if unknown:
        raise ValueError(f"Unknown action fields: {', '.join(sorted(unknown))}")
    values = {"status": ActionStatus.DRAFT, **values, "title": (title or "").strip(), "kind": kind}
    values["description"] = html_clean(values.get("description", ""))
    _validate_action(values, pk=None)
    with transaction.atomic():
        values["slug"] = values.get("slug") or slug_suggest(values["title"])
        action = Action.objects.create(**values)
        log_action("action.created", obj=action, actor=actor, data={"title": action.title})
    return action


def action_update(*, action: Action, actor: Any, **values: Any) -> Action:
    unknown = set(values) - set(ACTION_FIELDS)
    if unknown:
        raise ValueError(f"Unknown action fields: {', '.join(sorted(unknown))}")
    if "description" in values:
        values["description"] = html_clean(values["description"])
    merged = {name: getattr(action, name) for name in ACTION_FIELDS if name != "campaign"}
    merged.update({k: v for k, v in values.items() if k != "campaign"})
    _validate_action(merged, pk=action.pk)
    changed = {k: v for k, v in values.items() if getattr(action, k) != v}
    if not changed:
        return action
    with transaction.atomic():
        before = {k: _plain(getattr(action, k)) for k in changed}
        for key, value in changed.items():
            setattr(action, key, value)
        if "status" in changed:
            action.closed_at = timezone.now() if action.status == ActionStatus.CLOSED else None
            changed["closed_at"] = action.closed_at
        action.save(update_fields=[*changed, "modified_at"])
        transaction.on_commit(partial(action_page_forget, before.get("slug", action.slug)))
        transaction.on_commit(partial(action_page_forget, action.slug))
        log_action(
            "action.updated",
            obj=action,
            actor=actor,
            data={"before": before, "after": {k: _plain(v) for k, v in changed.items()}},
        )
    return action


def _plain(value: Any) -> Any:
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def action_close(*, action: Action, actor: Any) -> Action:
    """Stop taking names. The page stays up with its count and says it is closed."""
    return action_update(action=action, actor=actor, status=ActionStatus.CLOSED)


def action_publish(*, action: Action, actor: Any) -> Action:
    return action_update(action=action, actor=actor, status=ActionStatus.LIVE)


def questions_set(*, action: Action, questions: list[dict[str, Any]], actor: Any) -> list[Question]:
    """Replace the form's questions with `questions` (dicts of label, kind, required, help_text,
    choices and, for an existing question, id). Answers already given stay with the submissions."""
    errors: dict[str, list[str]] = {}
    for i, q in enumerate(questions):
        if not (q.get("label") or "").strip():
            errors[f"questions-{i}"] = ["A question needs its text."]
        elif q.get("kind") not in QuestionKind.values:
            errors[f"questions-{i}"] = ["Choose what kind of answer the question takes."]
        elif q["kind"] == QuestionKind.CHOICE and len(q.get("choices") or []) < 2:
            errors[f"questions-{i}"] = ["A pick-one question needs at least two choices."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        existing = {q.pk: q for q in action.questions.all()}
        kept: list[Question] = []
        for position, data in enumerate(questions):
            question = existing.pop(data.get("id"), None) or Question(action=action)
            question.position = position
            question.label = data["label"].strip()[:200]
            question.kind = data["kind"]
            question.required = bool(data.get("required"))
            question.help_text = (data.get("help_text") or "").strip()[:300]
            choices = [str(c).strip()[:200] for c in data.get("choices") or [] if str(c).strip()]
            question.choices = list(dict.fromkeys(choices))
            question.save()
            kept.append(question)
        for question in existing.values():
            question.delete()
        transaction.on_commit(partial(action_page_forget, action.slug))
        log_action(
            "action.questions.set",
            obj=action,
            actor=actor,
            data={"questions": [q.label for q in kept]},
        )
    return kept


def answers_clean(questions: list[Question], raw: dict[Any, Any] | None) -> dict[str, Any]:
    """Answers keyed by question id, checked against the questions; raises ValidationError keyed
    by the form field name ("q_<id>") with a message for each bad answer. Accepts keys
    "q_12", "12" or 12."""
    raw = {str(k).removeprefix("q_"): v for k, v in (raw or {}).items()}
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for question in questions:
        key = str(question.pk)
        value = raw.get(key)
        try:
            answer = _answer_clean(question, value)
        except ValidationError as exc:
            errors[question.field_name] = exc.messages
            continue
        if answer not in (None, "", [], False):
            cleaned[key] = answer
    if errors:
        raise ValidationError(errors)
    return cleaned


def _answer_clean(question: Question, value: Any) -> Any:
    if question.kind == QuestionKind.TEXT:
        text = "" if value is None else str(value).strip()
        if len(text) > MAX_TEXT_ANSWER:
            raise ValidationError(f"Keep this under {MAX_TEXT_ANSWER} characters.")
        if question.required and not text:
            raise ValidationError("Please answer this question.")
        return text
    if question.kind == QuestionKind.CHOICE:
        text = "" if value is None else str(value).strip()
        if not text:
            if question.required:
                raise ValidationError("Please pick one.")
            return ""
        if text not in question.choices:
            raise ValidationError("Pick one of the choices listed.")
        return text
    # Checkboxes: a list of choices, or one yes/no box when the question has no choices.
    if not question.choices:
        ticked = value in (True, "on", "true", "True", "1", 1, "yes")
        if question.required and not ticked:
            raise ValidationError("Please tick this box to continue.")
        return ticked
    values = value if isinstance(value, list | tuple) else ([value] if value else [])
    values = [str(v).strip() for v in values if str(v).strip()]
    unknown = [v for v in values if v not in question.choices]
    if unknown:
        raise ValidationError("Pick from the choices listed.")
    if question.required and not values:
        raise ValidationError("Please tick at least one.")
    return [c for c in question.choices if c in values]


def submission_record(*, action: Action, person_data: PersonData, **options: Any) -> Submission:
    """Put a person's name to an action.

    Matches or creates the person, stores the submission, writes the ledger act (with referrer,
    channel and recruitment edge) and queues the thank-you email after commit. Returns the
    submission with two extra attributes: `created` (False when this person had already signed
    a petition or pledge: nothing new was written, no second act) and `person_created`.
    Raises ValidationError (keyed by field) for a closed action or bad input.
    `options` are those of `signature_check`: answers, comment, referral, source ("page"),
    at (now) and send_email (True).
    """
    return _signature_write(signature_check(action=action, person_data=person_data, **options))


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


def _signature_write(signature: Signature, *, savepoint: bool = True) -> Submission:
    """One checked signature in its own transaction (or, inside one, with a savepoint unless
    `savepoint=False`: then a failure fails the enclosing transaction)."""
    action, person_data, referral = signature.action, signature.person_data, signature.referral
    with transaction.atomic(savepoint=savepoint):
        match = person_match(person_data)
        person, person_created = match.person, match.created
        referrer = resolve_referrer(referral, person)
        submission = _submission_create(
            action=action,
            person=person,
            person_created=person_created,
            answers=signature.answers,
            comment=signature.comment,
            referral=referral,
            referrer=referrer,
            source=signature.source,
            at=signature.at,
        )
        submission.person_created = person_created
        if submission.created:
            webhook_emit(_event_type(action), submission)
        if submission.created and submission.counted:
            fields = _act_fields(signature, submission)
            fields["details"] = act_details(match, fields["details"])
            activity_record(
                person=person,
                referral=referral,
                referrer=referrer,
                person_created=person_created,
                **fields,
            )
            if signature.send_email and person_data.email:
                enqueue_on_commit(thank_you_send, submission.pk, person_data.email)
    return submission


def _act_fields(signature: Signature, submission: Submission) -> dict[str, Any]:
    """The ledger act of a new counted submission (besides person, referral and referrer)."""
    action = signature.action
    return {
        "kind": action.ledger_kind,
        "campaign": action.campaign,
        "target": submission,
        "details": {"action": action.pk},
        "at": signature.at,
    }


def _event_type(action: Action) -> str:
    return "submission" if action.kind == ActionKind.FORM else "signature"


def submissions_record(signatures: list[Signature]) -> list[Submission | Exception]:
    """Write several checked signatures (`signature_check`) at once: what `submission_record`
    writes for each, in one transaction and fewer statements. Returns each one's submission,
    or the exception that one raised when written alone.

    People new to Rallypoint (an email address nobody has, no phone number, no tags, once in
    the batch) are written together: one INSERT per table for all of them. Everyone else
    (people to match and merge, repeated signatures) goes one after the other through the
    same steps as `submission_record`, in the same transaction. If anything in it fails (a
    concurrent request took one of the addresses a moment ago, a deadlock, one bad signature),
    it is rolled back whole and every signature is written alone, in its own transaction.
    """
    if len(signatures) > 1:
        results: list[Submission | None] = [None] * len(signatures)
        try:
            with transaction.atomic():
                fresh = _fresh_positions(signatures)
                if fresh:
                    written = _fresh_write([signatures[i] for i in fresh])
                    for i, submission in zip(fresh, written, strict=True):
                        results[i] = submission
                for i, signature in enumerate(signatures):
                    if results[i] is None:
                        results[i] = _signature_write(signature, savepoint=False)
        except (ValidationError, DatabaseError):
            pass  # each one alone, below
        else:
            return results  # type: ignore[return-value]
    alone: list[Submission | Exception] = []
    for signature in signatures:
        try:
            alone.append(_signature_write(signature))
        except (ValidationError, DatabaseError) as exc:
            alone.append(exc)
    return alone


_together: Together | None = None
_together_lock = threading.Lock()


def submission_record_together(**kwargs: Any) -> Submission:
    """`submission_record` for web requests: the checks run in the caller's thread, then the
    write joins the signatures of other requests arriving at the same moment in this process
    (`core.concurrency.Together`, at most SIGNATURE_BATCH_MAX at once) and is written with them
    by `submissions_record`. A lone request writes its own at once. Raises ValidationError as
    `submission_record` does, and Busy when its turn did not come within WRITE_WAIT_SECONDS."""
    global _together
    signature = signature_check(**kwargs)
    size = max(1, int(settings.SIGNATURE_BATCH_MAX))
    if _together is None or _together.max_batch != size:
        with _together_lock:
            if _together is None or _together.max_batch != size:
                _together = Together(submissions_record, max_batch=size)
    return _together.run(signature)


def _fresh_positions(signatures: list[Signature]) -> list[int]:
    """Positions of the signatures whose person is surely new: an email address that nobody
    has and no other signature of the batch has, no phone number, no tags."""
    keys: dict[str, list[int]] = {}
    for i, signature in enumerate(signatures):
        data = signature.person_data
        if data.email and not data.phone and not data.tags:
            keys.setdefault(email_key(data.email), []).append(i)
    known = (
        set(
            EmailAddress.objects.filter(address_normalized__in=list(keys)).values_list(
                "address_normalized", flat=True
            )
        )
        if keys
        else set()
    )
    return sorted(
        positions[0] for key, positions in keys.items() if len(positions) == 1 and key not in known
    )


def _fresh_write(signatures: list[Signature]) -> list[Submission]:
    """New people signing: the rows `_signature_write` writes for each, one INSERT per table.
    Call inside a transaction; a concurrent twin's email address raises IntegrityError."""
    people = [person_new(s.person_data) for s in signatures]
    insert(*people)
    emails, addresses = [], []
    for person, signature in zip(people, signatures, strict=True):
        email, _phone, address = person_contacts_new(person, signature.person_data)
        emails.append(email)
        if address is not None:
            addresses.append(address)
    insert(*emails)  # no ON CONFLICT: a taken address fails the whole batch
    if addresses:
        insert(*addresses)
    referrers = referrers_of_codes([s.referral.code for s in signatures if s.referral])
    submissions = []
    for person, signature in zip(people, signatures, strict=True):
        submissions.append(
            Submission(
                **_submission_values(
                    action=signature.action,
                    person=person,
                    answers=signature.answers,
                    comment=signature.comment,
                    referral=signature.referral,
                    referrer=_referrer(referrers, signature.referral),
                    source=signature.source,
                    at=signature.at,
                ),
                counted=True,
            )
        )
    insert(*submissions)
    acts, edges = [], []
    for person, signature, submission in zip(people, signatures, submissions, strict=True):
        action, referral = signature.action, signature.referral
        submission.created = submission.person_created = True
        webhook_emit("person.created", person)
        webhook_emit(_event_type(action), submission)
        referrer = submission.referrer
        acts.append(
            activity_new(
                person=person,
                referral=referral,
                referrer=referrer,
                **_act_fields(signature, submission),
            )
        )
        if referrer is not None:
            edges.append(
                recruitment_new(
                    recruiter=referrer,
                    recruit=person,
                    campaign=action.campaign,
                    channel=act_channel(referral),
                    at=signature.at,
                )
            )
    if edges:
        insert(*edges)
    insert(*acts, *(recruit_credit_new(edge) for edge in edges))
    enqueue_many_on_commit(
        thank_you_send,
        [
            ((submission.pk, signature.person_data.email), {})
            for signature, submission in zip(signatures, submissions, strict=True)
            if signature.send_email
        ],
    )
    return submissions


def _referrer(referrers: dict[str, Person], referral: Referral | None) -> Person | None:
    return referrers.get(referral.code) if referral and referral.code else None


# The counted submission of a person who had signed already (one filter() per argument, in the
# arguments' order: filter() sorts its keywords).
_COUNTED_SUBMISSION = Select(
    "actions.counted_submission",
    Submission,
    lambda action_id, person_id: (
        Submission.objects.filter(action_id=action_id)
        .filter(person_id=person_id)
        .filter(counted=True)
        .order_by()[:1]
    ),
)


def _submission_values(
    *,
    action: Action,
    person: Person,
    answers: dict[str, Any],
    comment: str,
    referral: Referral | None,
    referrer: Person | None,
    source: str,
    at: datetime,
) -> dict[str, Any]:
    channel = act_channel(referral)
    return {
        "action": action,
        "person": person,
        "answers": answers,
        "comment": comment,
        "referrer": referrer,
        "channel": channel if referrer or channel != "direct" else "",
        "source": source[:20],
        "created_at": at,
    }


def _submission_create(*, person_created: bool, **fields: Any) -> Submission:
    """The submission of `_submission_values(**fields)`; `created` says whether it is new."""
    values = _submission_values(**fields)
    action, person = fields["action"], fields["person"]
    if person_created:
        # Nobody else can have signed as a person who did not exist a moment ago.
        submission = Submission(**values, counted=True)
        insert(submission)
        submission.created = True
        return submission
    # The counted submission is unique per person and action: the insert itself says whether
    # this person had signed already (or their second click landed at the same moment).
    submission = Submission(**values, counted=True)
    if insert(submission, ignore_conflicts=True):
        submission.created = True
        return submission
    existing = _COUNTED_SUBMISSION.one(action.pk, person.pk)
    if existing is None:  # as get() would: the insert was skipped, so the row exists
        raise Submission.DoesNotExist("No counted submission for this person and action.")
    if action.once_per_person:
        existing.created = False
        return existing
    # A sign-up form sent again: keep the new answers, count the person once.
    submission = Submission.objects.create(**values, counted=False)
    submission.created = True
    return submission


def _thank_you_context(submission: Submission) -> dict[str, Any]:
    person, action = submission.person, submission.action
    return {
        "action": action,
        "given_name": person.given_name,
        "thank_you_message": action.thank_you_message,
        "share_url": action_share_url(action, person, channel="email"),
        "dashboard_url": dashboard_url(person),
    }


def _thank_you_address(submission: Submission) -> str:
    address = submission.person.email_addresses.order_by("-primary", "id").first()
    return address.address if address else ""


def thank_you_queue(*, submission_id: int, to: str = "") -> bool:
    """Render and queue the thank-you email to `to` (default: the person's primary address). A
    task runs it after the submission commits, so the supporter's request does not wait for it.
    Queues at most once per submission."""
    submission = (
        Submission.objects.select_related("person", "action").filter(pk=submission_id).first()
    )
    if submission is None or not submission.counted:
        return False
    to = to or _thank_you_address(submission)
    if not to:
        return False
    with transaction.atomic():
        message = email_queue(
            to=to,
            template="actions/email/thank_you",
            context=_thank_you_context(submission),
            dedupe_key=f"action-thanks:{submission.pk}",
        )
    return message is not None


def thank_you_resend(*, submission: Submission) -> bool:
    """Send the thank-you email (with the share and dashboard links) once more, on request from
    the thank-you page. Limited to one resend per submission."""
    to = _thank_you_address(submission)
    if not to:
        return False
    with transaction.atomic():
        message = email_queue(
            to=to,
            template="actions/email/thank_you",
            context=_thank_you_context(submission),
            dedupe_key=f"action-thanks-again:{submission.pk}",
        )
    return message is not None
