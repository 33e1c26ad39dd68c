"""Child process of test_capacity_race: RACERS threads RSVP for the last 5 seats on a SQLite
file database (RALLYPOINT_VAR_DIR), then print the outcome as JSON."""

import json
import sys

import django


def main(racers: int) -> None:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rallypoint.settings")
    django.setup()
    from rallypoint.events.models import Rsvp
    from tests.events.test_capacity_race import last_five_seats, race

    event = last_five_seats()
    results, errors = race(event, racers)
    event.refresh_from_db()
    print(
        json.dumps(
            {
                "errors": errors,
                "accepted": results.count("accepted"),
                "waitlisted": results.count("waitlisted"),
                "seats_taken": event.seats_taken,
                "accepted_rows": Rsvp.objects.filter(event=event, status="accepted").count(),
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
