"""The organizer's mailing pages under /mail/ (see views_organize)."""

from django.urls import path

from . import views_organize as views

urlpatterns = [
    path("", views.mailing_list, name="list"),
    path("new/", views.mailing_new, name="new"),
    path("audience/count/", views.audience_count_partial, name="audience_count"),
    path("campaign-links/", views.campaign_links, name="campaign_links"),
    path("images/", views.image_upload, name="image_upload"),
    path("<int:pk>/", views.mailing_detail, name="detail"),
    path("<int:pk>/edit/", views.mailing_edit, name="edit"),
    path("<int:pk>/autosave/", views.mailing_autosave, name="autosave"),
    path("<int:pk>/test/", views.mailing_test, name="test"),
    path("<int:pk>/send/", views.mailing_send_view, name="send"),
    path("<int:pk>/schedule/", views.mailing_schedule_view, name="schedule"),
    path("<int:pk>/unschedule/", views.mailing_unschedule_view, name="unschedule"),
    path("<int:pk>/pause/", views.mailing_pause_view, name="pause"),
    path("<int:pk>/resume/", views.mailing_resume_view, name="resume"),
    path("<int:pk>/cancel/", views.mailing_cancel_view, name="cancel"),
    path("<int:pk>/progress/", views.mailing_progress_partial, name="progress"),
    path("<int:pk>/duplicate/", views.mailing_duplicate_view, name="duplicate"),
    path("<int:pk>/delete/", views.mailing_delete_view, name="delete"),
    path("<int:pk>/report/", views.mailing_report_view, name="report"),
    path("<int:pk>/report/recipients.csv", views.mailing_export, name="export"),
]
