from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "rallypoint.groups"
    label = "groups"
