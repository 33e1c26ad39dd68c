from django.urls import path

from . import views

app_name = "mission"
urlpatterns = [
    path("<slug:slug>/", views.campaign_detail, name="detail"),
]
