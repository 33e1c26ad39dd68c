from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "rallypoint.ledger"
    label = "ledger"
