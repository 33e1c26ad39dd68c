from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "rallypoint.api"
    label = "api"
    verbose_name = "OSDI API"
    organizer_nav = [("api:keys", "API keys")]
