from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "rallypoint.segments"
    label = "segments"
