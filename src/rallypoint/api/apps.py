from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "rallypoint.api"
    label = "api"
