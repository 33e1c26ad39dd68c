from django.urls import path

from .views import organize, public

app_name = "mission"
urlpatterns = [
    path("organize/", organize.campaign_list, name="organize_list"),
    path("organize/new/", organize.campaign_new, name="organize_new"),
    path("organize/<slug:slug>/", organize.campaign_edit, name="organize_edit"),
    path("organize/<slug:slug>/goals/", organize.goal_list, name="organize_goals"),
    path(
        "organize/<slug:slug>/goals/<int:goal_id>/", organize.goal_edit, name="organize_goal_edit"
    ),
    path(
        "organize/<slug:slug>/goals/<int:goal_id>/delete/",
        organize.goal_delete,
        name="organize_goal_delete",
    ),
    path("organize/<slug:slug>/share/", organize.share_texts, name="organize_share"),
    path("organize/<slug:slug>/points/", organize.points, name="organize_points"),
    path("<slug:slug>/", public.campaign_detail, name="detail"),
    path("<slug:slug>/live/", public.campaign_live, name="live"),
    path("<slug:slug>/leaderboard/", public.campaign_leaderboard, name="leaderboard"),
]
