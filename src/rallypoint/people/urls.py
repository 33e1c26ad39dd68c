from django.urls import path

from . import views

app_name = "people"
urlpatterns = [
    path("join/", views.join, name="join"),
    path("join/thanks/", views.join_done, name="join_done"),
    path("", views.person_list, name="list"),
    path("<int:pk>/", views.person_detail, name="detail"),
    path("<int:pk>/edit/", views.person_edit, name="edit"),
    path("<int:pk>/tags/", views.person_tag_add, name="tag_add"),
    path("<int:pk>/tags/<int:tag_id>/remove/", views.person_tag_remove, name="tag_remove"),
    path("<int:pk>/contacts/", views.person_contact_add_view, name="contact_add"),
    path(
        "<int:pk>/emails/<int:email_id>/status/",
        views.person_email_status,
        name="email_status",
    ),
    path("<int:pk>/merge/", views.person_merge_pick, name="merge"),
    path("<int:pk>/merge/<int:other_pk>/", views.person_merge_confirm, name="merge_confirm"),
]
