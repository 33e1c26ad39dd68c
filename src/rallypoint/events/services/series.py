"""Events that repeat (a weekly phone bank): a Series links occurrences that are each a real
Event with its own RSVPs. Made from the host form ("Repeat: every week until …"); edited one
at a time, "this and following" or all; cancelled one at a time or the rest.

Times are moved in the event's wall-clock time: a phone bank at 6 PM stays at 6 PM after the
clocks change. Occurrences that have started are never changed by an edit of the series."""

import uuid
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from rallypoint.people.models import Person

from ..models import Event, Repeat, Series
from .events import (
    TIME_FIELDS,
    EventData,
    Scope,
    event_create,
    event_data_clean,
    event_update_one,
    question_row,
)
from .shifts import ShiftData, aware, wall

MAX_OCCURRENCES = 52


@dataclass
class RepeatData:
    """How an event repeats: `frequency` (Repeat), until a date or a number of times (the
    first event included)."""

    frequency: str
    count: int | None = None
    until: date | None = None


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date | None:
    """The nth (1–4, or 5 for "the last") `weekday` of a month."""
    first = date(year, month, 1)
    day = first + timedelta(days=(weekday - first.weekday()) % 7)
    if nth == 5:
        while (day + timedelta(days=7)).month == month:
            day += timedelta(days=7)
        return day
    day += timedelta(days=7 * (nth - 1))
    return day if day.month == month else None


def occurrence_starts(
    starts_at: datetime, zone: ZoneInfo, repeat: RepeatData, *, limit: int = MAX_OCCURRENCES + 1
) -> list[datetime]:
    """The start of each occurrence, the first one included, at the same wall-clock time.
    Monthly: the same weekday of the month (the 2nd Tuesday; a 5th one is "the last")."""
    first = wall(starts_at, zone)
    nth = min((first.day - 1) // 7 + 1, 5)
    starts: list[datetime] = []
    k = 0
    while len(starts) < limit:
        if repeat.frequency == Repeat.MONTHLY:
            month_index = first.month - 1 + k
            day = _nth_weekday(
                first.year + month_index // 12, month_index % 12 + 1, first.weekday(), nth
            )
            moment = datetime.combine(day, first.time()) if day else None
        else:
            step = 7 if repeat.frequency == Repeat.WEEKLY else 14
            moment = first + timedelta(days=step * k)
        k += 1
        if moment is None:
            continue
        if repeat.until is not None and moment.date() > repeat.until:
            break
        starts.append(aware(moment, zone))
        if repeat.count is not None and len(starts) >= repeat.count:
            break
    return starts


def repeat_check(
    repeat: RepeatData, *, starts_at: datetime | None, zone: ZoneInfo
) -> list[datetime]:
    """The occurrences' starts, or ValidationError keyed by the form's repeat fields."""
    if repeat.frequency not in Repeat.values:
        raise ValidationError({"repeat": ["Choose how often the event repeats."]})
    if repeat.count is None and repeat.until is None:
        raise ValidationError(
            {"repeat_count": ["Say how many times it happens, or until which date."]}
        )
    if repeat.count is not None and not 2 <= repeat.count <= MAX_OCCURRENCES:
        raise ValidationError(
            {"repeat_count": [f"A series has between 2 and {MAX_OCCURRENCES} events."]}
        )
    if starts_at is None:
        return []
    if repeat.until is not None and repeat.until <= wall(starts_at, zone).date():
        raise ValidationError({"repeat_until": ["The last date is after the first event."]})
    starts = occurrence_starts(starts_at, zone, repeat)
    if len(starts) > MAX_OCCURRENCES:
        raise ValidationError(
            {
                "repeat_until": [
                    f"That makes more than {MAX_OCCURRENCES} events; a series has at most "
                    f"{MAX_OCCURRENCES}. Pick an earlier last date."
                ]
            }
        )
    if len(starts) < 2:
        raise ValidationError({"repeat_until": ["That leaves just one event: pick a later date."]})
    return starts


def series_create(
    *,
    data: EventData,
    repeat: RepeatData,
    host: Person | None,
    actor: Any = None,
    shifts: list[ShiftData] | None = None,
    questions: list[dict[str, Any]] | None = None,
) -> list[Event]:
    """Create every occurrence of a repeating event (each through `event_create`, with the same
    shifts and questions at the same times of day), linked by one Series; all or none.
    Raises ValidationError as `event_create` does, and for the repeat fields."""
    clean = event_data_clean(data)  # the first event's errors, as for a lone event
    zone = ZoneInfo(clean.timezone)
    assert clean.starts_at is not None and clean.ends_at is not None
    starts = repeat_check(repeat, starts_at=clean.starts_at, zone=zone)
    first = wall(clean.starts_at, zone)
    length = wall(clean.ends_at, zone) - first
    shifts = [replace(row, series_key=row.series_key or uuid.uuid4()) for row in shifts or []]
    questions = [
        {**row, "series_key": row.get("series_key") or uuid.uuid4()} for row in questions or []
    ]
    events: list[Event] = []
    with transaction.atomic():
        series = Series.objects.create(frequency=repeat.frequency)
        for index, start in enumerate(starts):
            by = wall(start, zone) - first
            occurrence = replace(
                data, starts_at=start, ends_at=aware(wall(start, zone) + length, zone)
            )
            rows = [_moved(row, by=by, zone=zone) for row in shifts]
            try:
                events.append(
                    event_create(
                        data=occurrence,
                        host=host,
                        actor=actor,
                        shifts=rows,
                        questions=[dict(q) for q in questions],
                        series=series,
                    )
                )
            except ValidationError as exc:
                if index == 0:
                    raise
                raise _on(start, zone, exc) from None
    return events


def _moved(row: ShiftData, *, by: timedelta, zone: ZoneInfo) -> ShiftData:
    assert row.starts_at is not None and row.ends_at is not None
    return replace(
        row,
        starts_at=aware(wall(row.starts_at, zone) + by, zone),
        ends_at=aware(wall(row.ends_at, zone) + by, zone),
    )


def _on(start: datetime, zone: ZoneInfo, exc: ValidationError) -> ValidationError:
    """An occurrence's errors, said of that occurrence (the form shows the one being edited)."""
    local = start.astimezone(zone)
    day = f"{local:%a, %b} {local.day}, {local.year}"
    groups = exc.message_dict.values() if hasattr(exc, "error_dict") else [exc.messages]
    messages = [m for ms in groups for m in ms]
    return ValidationError([f"The event on {day}: {m}" for m in messages])


def series_targets(event: Event, *, scope: str) -> list[Event]:
    """The occurrences an edit or cancel of `event` with `scope` reaches: `event` itself, and
    the later ("following") or all other occurrences that haven't started or been cancelled."""
    if event.series_id is None or scope == Scope.THIS:
        return [event]
    others = (
        Event.objects.filter(series_id=event.series_id, starts_at__gt=timezone.now())
        .exclude(pk=event.pk)
        .exclude(status="cancelled")
    )
    if scope == Scope.FOLLOWING:
        others = others.filter(starts_at__gt=event.starts_at)
    return sorted([event, *others], key=lambda e: (e.starts_at, e.pk))


def series_update(
    *,
    event: Event,
    data: EventData,
    actor: Any,
    shifts: list[ShiftData] | None,
    questions: list[dict[str, Any]] | None,
    scope: str,
) -> Event:
    """`event_update` of `event` and the occurrences `scope` reaches, all or none: the fields
    changed on `event` are set on each, its times move by the same wall-clock offsets, and its
    shifts and questions are matched across occurrences by their series key (added, changed
    and removed alike; a shift or question an occurrence has of its own stays)."""
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        targets = series_targets(event, scope=scope)
        clean = event_data_clean(data, event=event)
        assert clean.starts_at is not None and clean.ends_at is not None
        before = EventData.from_event(event)
        changed = [
            f.name
            for f in fields(EventData)
            if f.name not in TIME_FIELDS and getattr(before, f.name) != getattr(clean, f.name)
        ]
        zone = ZoneInfo(clean.timezone)
        by_start = wall(clean.starts_at, zone) - wall(event.starts_at, event.zone)
        by_end = wall(clean.ends_at, zone) - wall(event.ends_at, event.zone)
        own_shifts = {s.pk: s for s in event.shifts.all()}
        own_questions = {q.pk: q for q in event.questions.all()}
        # The key that finds each shift and question in the other occurrences.
        if shifts is not None:
            shifts = [replace(row, series_key=_key(own_shifts.get(row.id or 0))) for row in shifts]
        if questions is not None:
            questions = [
                {**row, "series_key": _key(own_questions.get(row.get("id") or 0))}
                for row in questions
            ]
        result = event
        for target in targets:
            if target.pk == event.pk:
                result = event_update_one(
                    event=event, data=data, actor=actor, shifts=shifts, questions=questions
                )
                continue
            target_data = EventData.from_event(target)
            for name in changed:
                setattr(target_data, name, getattr(clean, name))
            target_zone = ZoneInfo(clean.timezone) if "timezone" in changed else target.zone
            target_data.timezone = target_zone.key
            target_data.starts_at = aware(
                wall(target.starts_at, target.zone) + by_start, target_zone
            )
            target_data.ends_at = aware(wall(target.ends_at, target.zone) + by_end, target_zone)
            try:
                event_update_one(
                    event=target,
                    data=target_data,
                    actor=actor,
                    shifts=_shifts_for(
                        target,
                        shifts,
                        own=own_shifts,
                        first=wall(clean.starts_at, zone),
                        start=wall(target_data.starts_at, target_zone),
                        by=by_start,
                        zone=target_zone,
                    ),
                    questions=_questions_for(target, questions, own=own_questions),
                )
            except ValidationError as exc:
                raise _on(target.starts_at, target.zone, exc) from None
    return result


def _key(found: Any) -> uuid.UUID:
    return found.series_key if found is not None else uuid.uuid4()


def _shifts_for(
    target: Event,
    rows: list[ShiftData] | None,
    *,
    own: dict[int, Any],
    first: datetime,
    start: datetime,
    by: timedelta,
    zone: ZoneInfo,
) -> list[ShiftData] | None:
    """The edited event's shift rows as `target`'s: the same slot (series key) at the same
    offset from the target's new start; the target's shifts of its own move with its start."""
    if rows is None:
        return None
    theirs = list(target.shifts.all())
    by_key = {s.series_key: s for s in theirs}
    shared = {s.series_key for s in own.values()} | {row.series_key for row in rows}
    mapped: list[ShiftData] = []
    for row in rows:
        assert row.starts_at is not None and row.ends_at is not None
        match = by_key.get(row.series_key) if row.series_key is not None else None
        mapped.append(
            replace(
                row,
                id=match.pk if match else None,
                starts_at=aware(start + (wall(row.starts_at, zone) - first), zone),
                ends_at=aware(start + (wall(row.ends_at, zone) - first), zone),
            )
        )
    for shift in theirs:
        if shift.series_key not in shared:
            mapped.append(
                ShiftData(
                    starts_at=aware(wall(shift.starts_at, zone) + by, zone),
                    ends_at=aware(wall(shift.ends_at, zone) + by, zone),
                    capacity=shift.capacity,
                    waitlist_enabled=shift.waitlist_enabled,
                    id=shift.pk,
                    series_key=shift.series_key,
                )
            )
    return mapped


def _questions_for(
    target: Event, rows: list[dict[str, Any]] | None, *, own: dict[int, Any]
) -> list[dict[str, Any]] | None:
    if rows is None:
        return None
    theirs = list(target.questions.all())
    by_key = {q.series_key: q for q in theirs}
    shared = {q.series_key for q in own.values()} | {row["series_key"] for row in rows}
    mapped = []
    for row in rows:
        match = by_key.get(row["series_key"])
        mapped.append({**row, "id": match.pk if match else None})
    mapped += [question_row(q, keep_id=True) for q in theirs if q.series_key not in shared]
    return mapped
