from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "rallypoint.actions"
    label = "actions"
    verbose_name = "Actions: petitions, pledges, sign-up forms"
    organizer_nav = [("actions:organize_list", "Actions")]
    ways_to_help = "rallypoint.actions.queries.ways_to_help"
