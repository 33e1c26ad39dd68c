from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "rallypoint.segments"
    label = "segments"
    organizer_nav = [("segments:list", "Segments")]
