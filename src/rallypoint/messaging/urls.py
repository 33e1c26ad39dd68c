"""/mail/: the organizer's mailings (urls_organize) and the links inside sent mail (urls_public:
click redirects, the open pixel, unsubscribe and preferences, provider webhooks)."""

from django.urls import include, path

app_name = "messaging"

urlpatterns = [
    path("", include("rallypoint.messaging.urls_organize")),
    path("m/", include("rallypoint.messaging.urls_public")),
]
