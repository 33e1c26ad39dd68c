"""Writes for events. One module per intent; import from here.

event_create / event_update / event_cancel / event_duplicate / event_approve  (events.py)
ShiftData, shifts_check / shifts_write, questions_check / questions_write    (shifts.py)
series_create / series_update / occurrence_starts                             (series.py)
rsvp_record / rsvp_record_together / rsvps_record / rsvps_write / rsvp_create (rsvps.py)
rsvp_cancel / waitlist_promote                                                (waitlist.py)
rsvp_shifts_change                                                            (shift_change.py)
rsvp_check_in                                                                 (checkin.py)
reminders_send_due / events_sweep / event_host_credit                         (reminders.py)
event_message_attendees                                                       (messages.py)
"""

from .checkin import rsvp_check_in
from .events import (
    EventData,
    Scope,
    event_approve,
    event_cancel,
    event_create,
    event_duplicate,
    event_settings_update,
    event_update,
)
from .messages import event_message_attendees
from .reminders import (
    event_host_credit,
    events_sweep,
    reminders_send_due,
    sweep_ensure_scheduled,
)
from .rsvps import (
    MAX_GUESTS,
    RsvpResult,
    RsvpToWrite,
    rsvp_check,
    rsvp_create,
    rsvp_record,
    rsvp_record_together,
    rsvps_record,
    rsvps_write,
)
from .series import RepeatData, occurrence_starts, series_create
from .shift_change import ShiftsChanged, rsvp_shifts_change
from .shifts import ShiftData
from .waitlist import rsvp_cancel, waitlist_promote

__all__ = [
    "MAX_GUESTS",
    "EventData",
    "RepeatData",
    "Scope",
    "ShiftData",
    "ShiftsChanged",
    "RsvpResult",
    "RsvpToWrite",
    "event_approve",
    "event_cancel",
    "event_create",
    "event_duplicate",
    "event_host_credit",
    "event_message_attendees",
    "event_settings_update",
    "event_update",
    "events_sweep",
    "reminders_send_due",
    "occurrence_starts",
    "rsvp_cancel",
    "rsvp_check",
    "rsvp_check_in",
    "rsvp_create",
    "rsvp_record",
    "rsvp_record_together",
    "rsvps_record",
    "rsvp_shifts_change",
    "rsvps_write",
    "series_create",
    "sweep_ensure_scheduled",
    "waitlist_promote",
]
