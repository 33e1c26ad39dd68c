from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "rallypoint.insights"
    label = "insights"
    verbose_name = "Insights"
