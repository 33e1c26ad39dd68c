"""Event pages: public (find, RSVP, calendars), hosts (create, dashboard, check-in), organizers."""
