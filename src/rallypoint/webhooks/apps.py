from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "rallypoint.webhooks"
    label = "webhooks"
    organizer_nav = [("webhooks:list", "Webhooks")]

    def ready(self) -> None:
        from rallypoint.core.outbox import outbox_consumer_register

        from .services.emit import OUTBOX_CONSUMER, webhooks_from_outbox, webhooks_want

        outbox_consumer_register(OUTBOX_CONSUMER, webhooks_from_outbox, wants=webhooks_want)
