from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "rallypoint.webhooks"
    label = "webhooks"
    organizer_nav = [("webhooks:list", "Webhooks")]
