from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "rallypoint.groups"
    label = "groups"
    verbose_name = "Local groups"
    organizer_nav = [("groups:organize", "Groups")]
    ways_to_help = "rallypoint.groups.queries.ways_to_help"
    event_groups = "rallypoint.groups.permissions.EVENT_GROUPS"
