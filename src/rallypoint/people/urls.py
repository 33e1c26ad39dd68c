from django.urls import path

from . import views

app_name = "people"
urlpatterns = [
    path("join/", views.join, name="join"),
    path("", views.person_list, name="list"),
]
