from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "rallypoint.events"
    label = "events"
    verbose_name = "Events"
    organizer_nav = [("events:organize", "Events")]
    ways_to_help = "rallypoint.events.queries.ways_to_help"
