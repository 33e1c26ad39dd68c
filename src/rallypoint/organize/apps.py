from django.apps import AppConfig


class OrganizeConfig(AppConfig):
    """The organizer's side of the site: the front page, the overview that gathers every tool's
    news, and the commands that set up an installation. It sits above every domain app and
    holds no business logic of its own."""

    name = "rallypoint.organize"
    label = "organize"
