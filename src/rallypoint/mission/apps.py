from django.apps import AppConfig


class MissionConfig(AppConfig):
    name = "rallypoint.mission"
    label = "mission"
    organizer_nav = [("mission:organize_list", "Campaigns")]
