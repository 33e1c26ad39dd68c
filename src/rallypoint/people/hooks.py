"""Extension points other apps plug into without people importing them.

"The person page": an app that keeps something about a person names a callable on its
AppConfig,

    class LedgerConfig(AppConfig):
        person_page = "rallypoint.ledger.queries.person_page"

and that callable takes the person and returns a dict of extra context for people/detail.html
(the ledger gives "timeline", the person's acts). The callables run in app order; each returns
a lazy queryset or runs a fixed number of queries.
"""

from typing import Any

from django.apps import apps
from django.utils.module_loading import import_string

from .models import Person


def person_page_context(person: Person) -> dict[str, Any]:
    """What every app adds to the person page for `person`."""
    context: dict[str, Any] = {}
    for config in apps.get_app_configs():
        path = getattr(config, "person_page", None)
        if path:
            context.update(import_string(path)(person))
    return context
