"""/insights/: the campaign's growth, channels and cascades (urls_grid), and its presence across
platforms, spread simulation and whom to ask next (urls_steer)."""

from django.urls import include, path

app_name = "insights"

urlpatterns = [
    path("", include("rallypoint.insights.urls_grid")),
    path("", include("rallypoint.insights.urls_steer")),
]
