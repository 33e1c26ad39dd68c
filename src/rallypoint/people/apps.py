from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "rallypoint.people"
    label = "people"
