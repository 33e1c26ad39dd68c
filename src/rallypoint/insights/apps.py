from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "rallypoint.insights"
    label = "insights"
    verbose_name = "Insights"
    organizer_nav = [("insights:overview", "Insights")]
    # The person page shows whom they brought in, whom those brought, and the chain to the root.
    person_page = "rallypoint.insights.queries.person_page"
