"""The campaign's growth, channels and cascades (views_grid)."""

from django.urls import path

from . import views_grid

urlpatterns = [
    path("", views_grid.overview, name="overview"),
    path("channels/", views_grid.channels, name="channels"),
    path("cascades/", views_grid.cascades, name="cascades"),
]
