from django.urls import path

from . import views

app_name = "segments"
urlpatterns = [
    path("", views.segment_list, name="list"),
    path("new/", views.segment_new, name="new"),
    path("preview/", views.segment_preview, name="preview"),
    path("<slug:slug>/", views.segment_detail, name="detail"),
    path("<slug:slug>/edit/", views.segment_edit, name="edit"),
    path("<slug:slug>/count/", views.segment_count_partial, name="count"),
    path("<slug:slug>/delete/", views.segment_delete_view, name="delete"),
]
