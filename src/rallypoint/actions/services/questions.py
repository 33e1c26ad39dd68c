"""A sign-up form's questions (set by organizers) and the answers supporters give. The fields,
the check of an answer and the organizer's form are shared with the events tool
(`people.questions`)."""

from functools import partial
from typing import Any

from django.db import transaction

from rallypoint.core.audit import log_action
from rallypoint.people.questions import (
    MAX_TEXT_ANSWER,
    answers_clean,
    question_fill,
    question_rows_check,
)

from ..models import Action, Question
from ..queries import action_page_forget

__all__ = ["MAX_TEXT_ANSWER", "answers_clean", "questions_set"]


def questions_set(*, action: Action, questions: list[dict[str, Any]], actor: Any) -> list[Question]:
    """Replace the form's questions with `questions` (dicts of label, kind, required, help_text,
    choices and, for an existing question, id). Answers already given stay with the submissions."""
    question_rows_check(questions)
    with transaction.atomic():
        existing: dict[Any, Question] = {q.pk: q for q in action.questions.all()}
        kept: list[Question] = []
        for position, data in enumerate(questions):
            question = existing.pop(data.get("id"), None) or Question(action=action)
            question_fill(question, data, position=position)
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
