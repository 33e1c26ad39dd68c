from django.urls import path

from . import views

app_name = "sharing"
urlpatterns = [
    path("go/<slug:channel>/", views.go, name="go"),
]
