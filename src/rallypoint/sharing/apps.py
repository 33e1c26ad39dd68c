from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "rallypoint.sharing"
    label = "sharing"
