from django.urls import path

from .views import organize, public

app_name = "actions"
urlpatterns = [
    path("organize/", organize.organize_list, name="organize_list"),
    path("organize/new/", organize.organize_new, name="organize_new"),
    path("organize/<int:pk>/", organize.organize_detail, name="organize_detail"),
    path("organize/<int:pk>/edit/", organize.organize_edit, name="organize_edit"),
    path("organize/<int:pk>/questions/", organize.organize_questions, name="organize_questions"),
    path("organize/<int:pk>/status/", organize.organize_status, name="organize_status"),
    path("organize/<int:pk>/export.csv", organize.organize_export, name="organize_export"),
    path("<slug:slug>/", public.action_detail, name="detail"),
    path("<slug:slug>/embed/", public.action_embed, name="embed"),
    path("<slug:slug>/embed.js", public.action_embed_js, name="embed_js"),
    path("<slug:slug>/thanks/<str:token>/", public.action_thanks, name="thanks"),
    path("<slug:slug>/thanks/<str:token>/email/", public.action_thanks_email, name="thanks_email"),
    path(
        "<slug:slug>/embed/thanks/<str:token>/",
        public.action_embed_thanks,
        name="embed_thanks",
    ),
]
