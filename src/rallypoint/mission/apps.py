from django.apps import AppConfig


class MissionConfig(AppConfig):
    name = "rallypoint.mission"
    label = "mission"
    organizer_nav = [("mission:organize_list", "Campaigns")]
    campaigns_by_id = "rallypoint.mission.queries.campaigns_by_id"

    def ready(self) -> None:
        from rallypoint.core.outbox import outbox_consumer_register

        from .milestones import OUTBOX_CONSUMER, milestones_from_outbox, milestones_want

        outbox_consumer_register(OUTBOX_CONSUMER, milestones_from_outbox, wants=milestones_want)
