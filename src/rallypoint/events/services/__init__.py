"""Writes for events. One module per intent; import from here.

event_create / event_update / event_cancel / event_duplicate / event_approve  (events.py)
rsvp_create / rsvp_cancel / rsvp_check_in                                     (rsvps.py)
reminders_send_due / events_sweep / event_host_credit                         (reminders.py)
event_message_attendees                                                       (messages.py)
"""

from .events import (
    EventData,
    event_approve,
    event_cancel,
    event_create,
    event_duplicate,
    event_settings_update,
    event_update,
)
from .messages import event_invite_group, event_message_attendees
from .reminders import (
    event_host_credit,
    events_sweep,
    reminders_send_due,
    sweep_ensure_scheduled,
)
from .rsvps import MAX_GUESTS, rsvp_cancel, rsvp_check_in, rsvp_create

__all__ = [
    "MAX_GUESTS",
    "EventData",
    "event_approve",
    "event_cancel",
    "event_create",
    "event_duplicate",
    "event_host_credit",
    "event_invite_group",
    "event_message_attendees",
    "event_settings_update",
    "event_update",
    "events_sweep",
    "reminders_send_due",
    "rsvp_cancel",
    "rsvp_check_in",
    "rsvp_create",
    "sweep_ensure_scheduled",
]
