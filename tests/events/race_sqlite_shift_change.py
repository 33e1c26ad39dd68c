"""Child process of test_shift_change_race: on a SQLite file database (RALLYPOINT_VAR_DIR), the
holders of a full shift give it up while everyone else adds it, all at once; prints
[errors, outcome] as JSON."""

import json
import os

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rallypoint.settings")
    django.setup()
    from tests.events.test_shift_change_race import the_holders_leave_while_everyone_else_joins

    print(json.dumps(the_holders_leave_while_everyone_else_joins()))


if __name__ == "__main__":
    main()
