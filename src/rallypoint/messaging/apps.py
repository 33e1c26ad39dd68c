from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "rallypoint.messaging"
    label = "messaging"
    verbose_name = "Email"
