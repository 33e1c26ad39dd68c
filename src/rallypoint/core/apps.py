from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "rallypoint.core"
    label = "core"
