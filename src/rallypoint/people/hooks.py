"""Extension points other apps plug into without people importing them.

"The person page": an app that keeps something about a person names a callable on its
AppConfig,

    class LedgerConfig(AppConfig):
        person_page = "rallypoint.ledger.queries.person_page"

and that callable takes the person and returns a dict of extra context for people/detail.html
(the ledger gives "timeline", the person's acts). The callables run in app order; each returns
a lazy queryset or runs a fixed number of queries.

"Someone joined": joining (the Join page, sign-up, the API's signup helper) is decided here, in
people, but the "join" act belongs to the ledger above. An app that records what joining means
names a callable on its AppConfig,

    class LedgerConfig(AppConfig):
        person_joined = "rallypoint.ledger.services.join_act_record"

called inside the joining transaction with the person, whether they were created, the campaign,
the referral and the act's details.
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


def person_joined(
    *,
    person: Person,
    created: bool,
    campaign: Any = None,
    referral: Any = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Tell every app that records joining (the ledger's "join" act) that `person` joined."""
    for config in apps.get_app_configs():
        path = getattr(config, "person_joined", None)
        if path:
            import_string(path)(
                person=person,
                created=created,
                campaign=campaign,
                referral=referral,
                details=details or {},
            )
