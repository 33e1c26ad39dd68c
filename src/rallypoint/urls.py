from django.urls import include, path

# The busiest public paths come first: Django tries the patterns in order on every request.
# (No earlier pattern can match a path under act/ or campaigns/, so the order is free.)
urlpatterns = [
    path("act/", include("rallypoint.actions.urls")),
    path("campaigns/", include("rallypoint.mission.urls")),
    path("", include("rallypoint.organize.urls")),
    path("accounts/", include("rallypoint.accounts.urls")),
    path("people/", include("rallypoint.people.urls")),
    path("segments/", include("rallypoint.segments.urls")),
    path("imports/", include("rallypoint.imports.urls")),
    path("me/", include("rallypoint.ledger.urls")),
    path("share/", include("rallypoint.sharing.urls")),
    path("events/", include("rallypoint.events.urls")),
    path("groups/", include("rallypoint.groups.urls")),
    path("mail/", include("rallypoint.messaging.urls")),
    path("insights/", include("rallypoint.insights.urls")),
    path("api/", include("rallypoint.api.urls")),
    path("webhooks/", include("rallypoint.webhooks.urls")),
]
