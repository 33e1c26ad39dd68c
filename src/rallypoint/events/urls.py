from django.urls import path

from .views import host, organize, public

app_name = "events"
urlpatterns = [
    path("", public.event_list, name="list"),
    path("new/", host.event_create_view, name="create"),
    path("mine/", host.my_events, name="mine"),
    path("organize/", organize.organize_events, name="organize"),
    path("organize/settings/", organize.organize_settings, name="organize_settings"),
    path("organize/<uuid:uuid>/review/", organize.organize_review, name="review"),
    path("organize/campaign/<slug:slug>/", organize.organize_template, name="organize_template"),
    path("campaign/<slug:slug>.ics", public.campaign_feed, name="campaign_feed"),
    path("rsvp/<uuid:rsvp_uuid>/", public.rsvp_done, name="rsvp_done"),
    path("rsvp/<uuid:rsvp_uuid>/cancel/", public.rsvp_cancel_view, name="rsvp_cancel"),
    path("rsvp/<uuid:rsvp_uuid>/shifts/", public.rsvp_shifts_view, name="rsvp_shifts"),
    path("<uuid:uuid>/", public.event_detail, name="detail"),
    path("<uuid:uuid>/rsvp/", public.rsvp, name="rsvp"),
    path("<uuid:uuid>/rsvp/sent/", public.rsvp_sent, name="rsvp_sent"),
    path("<uuid:uuid>/event.ics", public.event_ics, name="ics"),
    path("<uuid:uuid>/manage/", host.event_manage, name="manage"),
    path("<uuid:uuid>/edit/", host.event_edit, name="edit"),
    path("<uuid:uuid>/cohost/", host.event_cohost, name="cohost"),
    path("<uuid:uuid>/message/", host.event_message, name="message"),
    path("<uuid:uuid>/checkin/", host.event_checkin, name="checkin"),
    path("<uuid:uuid>/sign-in-sheet/", host.event_sign_in_sheet, name="sign_in_sheet"),
    path("<uuid:uuid>/attendees.csv", host.event_attendees_csv, name="attendees_csv"),
    path("<uuid:uuid>/checkin/walk-in/", host.event_walk_in, name="walk_in"),
    path("<uuid:uuid>/checkin/<uuid:rsvp_uuid>/", host.event_checkin_toggle, name="checkin_toggle"),
    path("<uuid:uuid>/duplicate/", host.event_duplicate_view, name="duplicate"),
    path("<uuid:uuid>/cancel/", host.event_cancel_view, name="cancel"),
]
