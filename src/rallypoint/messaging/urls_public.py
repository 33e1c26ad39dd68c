"""/mail/m/: the links inside sent mail (kept short: every character is in every message)."""

from django.urls import path

from . import views_public

urlpatterns = [
    path("c/<str:token>/", views_public.track_click, name="track_click"),
    path("o/<str:token>.gif", views_public.track_open, name="track_open"),
    path("u/<str:token>/", views_public.unsubscribe, name="unsubscribe"),
    path("p/<str:token>/", views_public.preferences, name="preferences"),
    path("r/<str:token>/", views_public.resubscribe, name="resubscribe"),
    path("i/<str:name>", views_public.image, name="image"),
    # The email provider's delivery and tracking events (anymail's view for that provider).
    path("anymail/<str:esp>/tracking/", views_public.provider_webhook, name="provider_webhook"),
]
