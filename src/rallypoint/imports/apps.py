from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "rallypoint.imports"
    label = "imports"
    organizer_nav = [
        ("imports:list", "Import & export"),
        ("imports:duplicates", "Duplicates"),
    ]
