from django.urls import path

from . import views

app_name = "ledger"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("link/<str:token>/", views.dashboard_link_open, name="dashboard_link"),
    path("email-link/", views.link_request, name="link_request"),
    path("visibility/", views.visibility, name="visibility"),
    path("password/", views.password_set, name="password"),
    path("leave/", views.leave, name="leave"),
]
