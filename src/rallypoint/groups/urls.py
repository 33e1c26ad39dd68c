from django.urls import path

from . import views

app_name = "groups"
urlpatterns = [
    path("", views.group_list, name="list"),
    path("new/", views.group_create_view, name="create"),
    path("organize/", views.organize_groups, name="organize"),
    path("<slug:slug>/", views.group_detail, name="detail"),
    path("<slug:slug>/events.ics", views.group_feed, name="feed"),
    path("<slug:slug>/join/", views.group_join_view, name="join"),
    path("<slug:slug>/leave/", views.group_leave_view, name="leave"),
    path("<slug:slug>/manage/", views.group_manage, name="manage"),
    path("<slug:slug>/edit/", views.group_edit, name="edit"),
    path("<slug:slug>/announce/", views.group_announce, name="announce"),
    path("<slug:slug>/members/<int:membership_id>/", views.member_action, name="member_action"),
    path("<slug:slug>/review/", views.organize_review, name="review"),
    path("<slug:slug>/merge/", views.organize_merge, name="merge"),
]
