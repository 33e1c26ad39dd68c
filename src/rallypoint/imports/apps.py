from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "rallypoint.imports"
    label = "imports"
