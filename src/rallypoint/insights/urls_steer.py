"""Steering pages under /insights/steer/: presence across platforms, the spread backtest and
whom to ask next (views_steer)."""

from django.urls import path

from . import views_steer as views

urlpatterns = [
    path("steer/", views.steer_index, name="steer"),
    path("steer/presence/", views.presence, name="presence"),
    path("steer/presence/import/", views.presence_import, name="presence_import"),
    path("steer/presence/accounts/new/", views.presence_account_new, name="presence_account_new"),
    path("steer/presence/accounts/<int:pk>/", views.presence_account, name="presence_account"),
    path(
        "steer/presence/accounts/<int:pk>/snapshot/",
        views.presence_snapshot_add,
        name="presence_snapshot_add",
    ),
    path(
        "steer/presence/accounts/<int:pk>/delete/",
        views.presence_account_delete,
        name="presence_account_delete",
    ),
    path("steer/<slug:slug>/spread/", views.spread, name="spread"),
    path("steer/<slug:slug>/spread/progress/", views.spread_progress, name="spread_progress"),
    path("steer/<slug:slug>/ask/", views.ask, name="ask"),
    path("steer/<slug:slug>/ask/progress/", views.ask_progress, name="ask_progress"),
    path("steer/<slug:slug>/ask/segment/", views.ask_segment, name="ask_segment"),
]
