"""A sign-up form's questions (set by organizers) and the answers supporters give."""

from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from rallypoint.core.audit import log_action

from ..models import Action, Question, QuestionKind
from ..queries import action_page_forget

MAX_TEXT_ANSWER = 2000


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
        existing: dict[Any, Question] = {q.pk: q for q in action.questions.all()}
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
