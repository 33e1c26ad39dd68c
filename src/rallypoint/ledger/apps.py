from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "rallypoint.ledger"
    label = "ledger"
    person_page = "rallypoint.ledger.queries.person_page"
    person_joined = "rallypoint.ledger.services.join_act_record"
