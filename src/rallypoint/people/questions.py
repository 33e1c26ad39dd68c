"""Extra questions an organizer or host asks supporters, shared by the tools that ask them
(sign-up forms in `actions`, RSVP forms in `events`): the fields every question has, the form
field a supporter answers it with, the check of an answer, and the organizer's form for
writing the questions. Each tool keeps its own question model (a subclass of `QuestionBase`
with a link to what it belongs to) and stores the answers with its own rows, keyed by the
question's id as a string: {"12": "Saturday", "13": ["Phones", "Doors"], "14": True}."""

from typing import Any, Protocol

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

MAX_TEXT_ANSWER = 2000
MAX_QUESTIONS = 50


class QuestionKind(models.TextChoices):
    TEXT = "text", "Text answer"
    CHOICE = "choice", "Pick one"
    CHECKBOX = "checkbox", "Tick boxes (any number; a single box when no choices)"


class QuestionBase(models.Model):
    """The fields of a question; a tool's model adds what the question belongs to."""

    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=QuestionKind.choices, default=QuestionKind.TEXT)
    label = models.CharField(max_length=200)
    help_text = models.CharField(max_length=300, blank=True)
    required = models.BooleanField(default=False)
    choices = models.JSONField(default=list, blank=True)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label

    @property
    def field_name(self) -> str:
        return f"q_{self.pk}"


class AskedQuestion(Protocol):
    """What the functions here read of a question (any `QuestionBase` row)."""

    pk: Any
    kind: str
    label: str
    help_text: str
    required: bool
    choices: list[str]

    @property
    def field_name(self) -> str: ...


# --- the supporter's side: one form field per question, and the check of an answer ----------


def question_field(question: AskedQuestion) -> forms.Field:
    """The form field a supporter answers `question` with (works without JavaScript)."""
    label, required, help_text = question.label, question.required, question.help_text
    if question.kind == QuestionKind.TEXT:
        return forms.CharField(
            label=label,
            required=required,
            help_text=help_text,
            max_length=MAX_TEXT_ANSWER,
            widget=forms.TextInput,
            error_messages={"required": "Please answer this question."},
        )
    if question.kind == QuestionKind.CHOICE:
        return forms.ChoiceField(
            label=label,
            required=required,
            help_text=help_text,
            choices=[(c, c) for c in question.choices],
            widget=forms.RadioSelect,
            error_messages={
                "required": "Please pick one.",
                "invalid_choice": "Pick one of the choices listed.",
            },
        )
    if question.choices:
        return forms.MultipleChoiceField(
            label=label,
            required=required,
            help_text=help_text,
            choices=[(c, c) for c in question.choices],
            widget=forms.CheckboxSelectMultiple,
            error_messages={
                "required": "Please tick at least one.",
                "invalid_choice": "Pick from the choices listed.",
            },
        )
    return forms.BooleanField(
        label=label,
        required=required,
        help_text=help_text,
        error_messages={"required": "Please tick this box to continue."},
    )


def answers_clean(
    questions: list[Any], raw: dict[Any, Any] | None, *, enforce_required: bool = True
) -> dict[str, Any]:
    """Answers keyed by question id, checked against the questions; raises ValidationError keyed
    by the form field name ("q_<id>") with a message for each bad answer. Accepts keys
    "q_12", "12" or 12. Blank answers are left out. `enforce_required=False` (a host typing
    in someone at the door) still checks what was given but lets required ones be blank."""
    raw = {str(k).removeprefix("q_"): v for k, v in (raw or {}).items()}
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for question in questions:
        key = str(question.pk)
        try:
            answer = answer_clean(question, raw.get(key), enforce_required=enforce_required)
        except ValidationError as exc:
            errors[question.field_name] = exc.messages
            continue
        if answer not in (None, "", [], False):
            cleaned[key] = answer
    if errors:
        raise ValidationError(errors)
    return cleaned


def answer_clean(question: AskedQuestion, value: Any, *, enforce_required: bool = True) -> Any:
    required = question.required and enforce_required
    if question.kind == QuestionKind.TEXT:
        text = "" if value is None else str(value).strip()
        if len(text) > MAX_TEXT_ANSWER:
            raise ValidationError(f"Keep this under {MAX_TEXT_ANSWER} characters.")
        if required and not text:
            raise ValidationError("Please answer this question.")
        return text
    if question.kind == QuestionKind.CHOICE:
        text = "" if value is None else str(value).strip()
        if not text:
            if required:
                raise ValidationError("Please pick one.")
            return ""
        if text not in question.choices:
            raise ValidationError("Pick one of the choices listed.")
        return text
    # Checkboxes: a list of choices, or one yes/no box when the question has no choices.
    if not question.choices:
        ticked = value in (True, "on", "true", "True", "1", 1, "yes")
        if required and not ticked:
            raise ValidationError("Please tick this box to continue.")
        return ticked
    values = value if isinstance(value, list | tuple) else ([value] if value else [])
    values = [str(v).strip() for v in values if str(v).strip()]
    unknown = [v for v in values if v not in question.choices]
    if unknown:
        raise ValidationError("Pick from the choices listed.")
    if required and not values:
        raise ValidationError("Please tick at least one.")
    return [c for c in question.choices if c in values]


def answer_text(value: Any) -> str:
    """An answer as one line of text (tables and CSV files)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


# --- the organizer's side: writing the questions ---------------------------------------------


def question_rows_check(
    rows: list[dict[str, Any]], *, key: str = "questions", max_rows: int | None = None
) -> None:
    """Raise ValidationError ("<key>-<row>": message) for rows a question can't be made from:
    dicts of label, kind, required, help_text, choices and, for an existing question, id;
    with `max_rows`, also for more rows than that ("<key>": message)."""
    errors: dict[str, list[str]] = {}
    if max_rows is not None and len(rows) > max_rows:
        errors[key] = [f"Ask at most {max_rows} questions."]
    for i, q in enumerate(rows):
        if not (q.get("label") or "").strip():
            errors[f"{key}-{i}"] = ["A question needs its text."]
        elif q.get("kind") not in QuestionKind.values:
            errors[f"{key}-{i}"] = ["Choose what kind of answer the question takes."]
        elif q["kind"] == QuestionKind.CHOICE and len(q.get("choices") or []) < 2:
            errors[f"{key}-{i}"] = ["A pick-one question needs at least two choices."]
    if errors:
        raise ValidationError(errors)


def question_fill(question: QuestionBase, row: dict[str, Any], *, position: int) -> None:
    """Set a question's fields from a checked row (`question_rows_check`); the caller saves."""
    question.position = position
    question.label = row["label"].strip()[:200]
    question.kind = row["kind"]
    question.required = bool(row.get("required"))
    question.help_text = (row.get("help_text") or "").strip()[:300]
    choices = [str(c).strip()[:200] for c in row.get("choices") or [] if str(c).strip()]
    question.choices = list(dict.fromkeys(choices))


class QuestionForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    label = forms.CharField(label="Question", max_length=200, required=False)
    kind = forms.ChoiceField(label="Answer", choices=QuestionKind.choices)
    required = forms.BooleanField(label="Required", required=False)
    help_text = forms.CharField(label="Hint", max_length=300, required=False)
    choices_text = forms.CharField(
        label="Choices (one per line)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        choices = [c.strip() for c in (data.get("choices_text") or "").splitlines() if c.strip()]
        data["choices"] = choices
        if data.get("label") and data.get("kind") == QuestionKind.CHOICE and len(choices) < 2:
            self.add_error("choices_text", "A pick-one question needs at least two choices.")
        return data


QuestionFormSet = forms.formset_factory(
    QuestionForm, extra=2, can_delete=True, max_num=MAX_QUESTIONS
)


def question_initial(questions: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": q.pk,
            "label": q.label,
            "kind": q.kind,
            "required": q.required,
            "help_text": q.help_text,
            "choices_text": "\n".join(q.choices),
        }
        for q in questions
    ]


def questions_from_formset(formset: Any) -> list[dict[str, Any]]:
    """The rows an organizer kept: blank extra rows and ticked "delete" rows are left out."""
    rows = []
    for form in formset.forms:
        data = form.cleaned_data
        if not data or data.get("DELETE") or not (data.get("label") or "").strip():
            continue
        rows.append(
            {
                "id": data.get("id"),
                "label": data["label"],
                "kind": data["kind"],
                "required": data.get("required", False),
                "help_text": data.get("help_text", ""),
                "choices": data.get("choices", []),
            }
        )
    return rows
