"""An event's shifts (time slots, each with its own capacity and waitlist) and its questions,
as a host sets them on the host form. Places in shifts are given only by the RSVP write
(`rsvps`), and given back by a cancel (`waitlist`)."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone

from rallypoint.people.questions import question_fill, question_rows_check

from ..models import Event, EventQuestion, RsvpStatus, Shift, ShiftSignup
from ..when import shift_text, when_text

MAX_SHIFTS = 50
MAX_QUESTIONS = 20


@dataclass
class ShiftData:
    """One shift as a host sets it. Times are aware datetimes; `id` names an existing shift of
    the event (None: a new one)."""

    starts_at: datetime | None
    ends_at: datetime | None
    capacity: int | None = None
    waitlist_enabled: bool = True
    id: int | None = None
    series_key: uuid.UUID | None = None

    @classmethod
    def from_shift(cls, shift: Shift) -> "ShiftData":
        return cls(
            starts_at=shift.starts_at,
            ends_at=shift.ends_at,
            capacity=shift.capacity,
            waitlist_enabled=shift.waitlist_enabled,
            id=shift.pk,
            series_key=shift.series_key,
        )


@dataclass
class _Window:
    """The event's time as it will be, which every shift must fit in."""

    starts_at: datetime
    ends_at: datetime
    zone: ZoneInfo

    @property
    def local_start(self):
        return self.starts_at.astimezone(self.zone)

    @property
    def local_end(self):
        return self.ends_at.astimezone(self.zone)


def wall(moment: datetime, zone: ZoneInfo) -> datetime:
    """The wall-clock time of `moment` in `zone`, without a zone: moving by a week keeps 6 PM
    at 6 PM across a change of summer time."""
    return moment.astimezone(zone).replace(tzinfo=None)


def aware(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.replace(tzinfo=zone)


def shifts_moved(shifts: list[Shift], *, by: timedelta, zone: ZoneInfo) -> list[ShiftData]:
    """The shifts as rows moved by `by` of wall-clock time (the event moved)."""
    rows = []
    for shift in shifts:
        row = ShiftData.from_shift(shift)
        row.starts_at = aware(wall(shift.starts_at, zone) + by, zone)
        row.ends_at = aware(wall(shift.ends_at, zone) + by, zone)
        rows.append(row)
    return rows


def _live_counts(shift_ids: list[int]) -> dict[int, int]:
    if not shift_ids:
        return {}
    rows = (
        ShiftSignup.objects.filter(shift_id__in=shift_ids)
        .exclude(status=RsvpStatus.CANCELLED)
        .values("shift_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["shift_id"]: row["n"] for row in rows}


def shifts_check(
    rows: list[ShiftData],
    *,
    starts_at: datetime,
    ends_at: datetime,
    zone: ZoneInfo,
    existing: dict[int, Shift],
) -> dict[str, list[str]]:
    """What is wrong with the shifts a host set, keyed "shifts-<row>" or "shifts" (an empty
    dict when nothing is). `existing`: the event's shifts now, by id."""
    errors: dict[str, list[str]] = {}
    now = timezone.now()
    window = _Window(starts_at, ends_at, zone)
    if len(rows) > MAX_SHIFTS:
        errors["shifts"] = [f"An event can have at most {MAX_SHIFTS} shifts."]
        return errors
    for i, row in enumerate(rows):
        key = f"shifts-{i}"
        before = existing.get(row.id) if row.id is not None else None
        if row.id is not None and before is None:
            errors[key] = ["That shift is no longer there. Reload the page and try again."]
            continue
        if row.starts_at is None or row.ends_at is None:
            errors[key] = ["Give the shift a start and an end."]
            continue
        if row.ends_at <= row.starts_at:
            errors[key] = ["A shift has to end after it starts."]
            continue
        if row.starts_at < starts_at or row.ends_at > ends_at:
            errors[key] = [f"Shifts happen during the event: {when_text(window)}."]
            continue
        if (before is None or before.starts_at != row.starts_at) and row.starts_at <= now:
            errors[key] = ["That time has already passed. Pick a time in the future."]
            continue
        if row.capacity is not None and row.capacity < 1:
            errors[key] = ["A shift's capacity is at least 1, or leave it empty for no limit."]
        elif row.capacity is not None and before is not None and row.capacity < before.seats_taken:
            errors[key] = [
                f"{before.seats_taken} people (with guests) are already in this shift, so its "
                f"capacity can't be lower than {before.seats_taken}."
            ]
    kept = {row.id for row in rows if row.id is not None}
    removed = [pk for pk in existing if pk not in kept]
    counts = _live_counts(removed)
    for pk in removed:
        if counts.get(pk):
            shift = existing[pk]
            n = counts[pk]
            errors.setdefault("shifts", []).append(
                f"{n} {'person is' if n == 1 else 'people are'} signed up for the shift "
                f"{shift_text(shift)}, so it can't be removed. Change its time instead, or "
                "message them first."
            )
    return errors


def shifts_write(
    *, event: Event, rows: list[ShiftData], existing: dict[int, Shift]
) -> tuple[list[int], bool]:
    """Make the event's shifts those of `rows` (checked by `shifts_check` against `existing`,
    from `shifts_locked`): update, add and remove. Returns the shifts that may have room for
    their waitlist now (capacity or waitlist changed) and whether a shift with people in it
    moved in time."""
    kept = {row.id for row in rows if row.id is not None}
    Shift.objects.filter(pk__in=[pk for pk in existing if pk not in kept]).delete()
    new: list[Shift] = []
    opened: list[int] = []
    moved = False
    for row in rows:
        assert row.starts_at is not None and row.ends_at is not None  # shifts_check
        if row.id is None:
            new.append(
                Shift(
                    event=event,
                    starts_at=row.starts_at,
                    ends_at=row.ends_at,
                    capacity=row.capacity,
                    waitlist_enabled=row.waitlist_enabled,
                    series_key=row.series_key or uuid.uuid4(),
                )
            )
            continue
        shift = existing[row.id]
        values = {
            "starts_at": row.starts_at,
            "ends_at": row.ends_at,
            "capacity": row.capacity,
            "waitlist_enabled": row.waitlist_enabled,
        }
        changed = [name for name, value in values.items() if getattr(shift, name) != value]
        if not changed:
            continue
        if {"starts_at", "ends_at"} & set(changed) and shift.seats_taken:
            moved = True
        if {"capacity", "waitlist_enabled"} & set(changed):
            opened.append(shift.pk)
        for name in changed:
            setattr(shift, name, values[name])
        shift.save(update_fields=changed)
    Shift.objects.bulk_create(new)
    return opened, moved


def shifts_locked(event: Event) -> dict[int, Shift]:
    """The event's shifts by id, locked in id order (after the event's own row, as every
    writer locks them)."""
    shifts = event.shifts.select_for_update(no_key=True).order_by("pk")
    return {shift.pk: shift for shift in shifts}


def questions_check(rows: list[dict[str, Any]], *, existing: dict[int, EventQuestion]) -> dict:
    errors: dict[str, list[str]] = {}
    try:
        question_rows_check(rows, max_rows=MAX_QUESTIONS)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    for i, row in enumerate(rows):
        if row.get("id") is not None and row["id"] not in existing:
            errors[f"questions-{i}"] = [
                "That question is no longer there. Reload the page and try again."
            ]
    return errors


def questions_write(*, event: Event, rows: list[dict[str, Any]]) -> list[EventQuestion]:
    """Make the event's questions those of `rows` (checked by `questions_check`), in order.
    Answers already given stay with the RSVPs."""
    existing = {q.pk: q for q in EventQuestion.objects.filter(event=event)}
    kept: list[EventQuestion] = []
    for position, row in enumerate(rows):
        question = existing.pop(row.get("id") or 0, None) or EventQuestion(
            event=event, series_key=row.get("series_key") or uuid.uuid4()
        )
        question_fill(question, row, position=position)
        question.save()
        kept.append(question)
    EventQuestion.objects.filter(pk__in=list(existing)).delete()
    return kept
