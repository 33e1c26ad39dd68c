from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "rallypoint.events"
    label = "events"
