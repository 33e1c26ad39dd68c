from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "rallypoint.messaging"
    label = "messaging"
    verbose_name = "Email"
    organizer_nav = [("messaging:list", "Email")]

    def ready(self) -> None:
        from anymail.signals import tracking

        from .signals import tracking_event_received

        tracking.connect(tracking_event_received, dispatch_uid="rallypoint.messaging.tracking")
