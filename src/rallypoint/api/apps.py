from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "rallypoint.api"
    label = "api"
    verbose_name = "OSDI API"
    organizer_nav = [("api:keys", "API keys")]

    def ready(self) -> None:
        # Webhooks and other outbox consumers show these records as their OSDI documents.
        from rallypoint.core.outbox import subject_renderer_register

        from .resources import RENDERERS, render_record

        for label in RENDERERS:
            subject_renderer_register(label, render_record)
