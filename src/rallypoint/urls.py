from django.urls import include, path

urlpatterns = [
    path("", include("rallypoint.core.urls")),
    path("accounts/", include("rallypoint.accounts.urls")),
    path("people/", include("rallypoint.people.urls")),
    path("segments/", include("rallypoint.segments.urls")),
    path("imports/", include("rallypoint.imports.urls")),
    path("me/", include("rallypoint.ledger.urls")),
    path("share/", include("rallypoint.sharing.urls")),
    path("campaigns/", include("rallypoint.mission.urls")),
    path("act/", include("rallypoint.actions.urls")),
    path("events/", include("rallypoint.events.urls")),
    path("groups/", include("rallypoint.groups.urls")),
    path("api/", include("rallypoint.api.urls")),
    path("webhooks/", include("rallypoint.webhooks.urls")),
]
