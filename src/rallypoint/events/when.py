"""Times as people read them, in the event's own zone: “Sat, Dec 5, 2026, 6 PM – 8 PM MST”.
For anything with `local_start` and `local_end` (an event, a shift)."""

from datetime import tzinfo
from typing import Any


def clock(value) -> str:
    text = value.strftime("%I:%M %p").lstrip("0")
    return text.replace(":00 ", " ")


def when_text(thing: Any) -> str:
    """“Sat, Dec 5, 2026, 6 PM – 8 PM MST” in the event's time zone."""
    start, end = thing.local_start, thing.local_end
    day = f"{start:%a, %b} {start.day}, {start.year}"
    if start.date() == end.date():
        return f"{day}, {clock(start)} – {clock(end)} {end.tzname()}"
    end_day = f"{end:%a, %b} {end.day}"
    return f"{day}, {clock(start)} – {end_day}, {clock(end)} {end.tzname()}"


def shift_text(shift: Any, zone: tzinfo | None = None) -> str:
    """A shift without its year (it is the event's): “Sat, Dec 5, 9 AM – 12 PM MST”, in
    `zone` (default: the shift's event's)."""
    if zone is not None:
        start, end = shift.starts_at.astimezone(zone), shift.ends_at.astimezone(zone)
    else:
        start, end = shift.local_start, shift.local_end
    day = f"{start:%a, %b} {start.day}"
    if start.date() == end.date():
        return f"{day}, {clock(start)} – {clock(end)} {end.tzname()}"
    return f"{day}, {clock(start)} – {end:%a, %b} {end.day}, {clock(end)} {end.tzname()}"
