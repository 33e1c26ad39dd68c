from django.apps import AppConfig


class MissionConfig(AppConfig):
    name = "rallypoint.mission"
    label = "mission"
    organizer_nav = [("mission:organize_list", "Campaigns")]
    campaigns_by_id = "rallypoint.mission.queries.campaigns_by_id"
