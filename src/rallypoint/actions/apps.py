from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "rallypoint.actions"
    label = "actions"
