"""/api/v1/… (the OSDI API; every path with or without a trailing slash, POST included) and
/api/keys/ (organizers manage keys)."""

import re

from django.urls import path, re_path

from .resources.actions import FORMS, PETITIONS
from .views import actions, entry, events, insights, keys, lists, messages, people, tags

app_name = "api"


def api(route: str, view, name: str):
    """`people/<person_id>` → ^v1/people/(?P<person_id>[^/]+)/?$"""
    pattern = re.sub(r"<(\w+)>", r"(?P<\1>[^/]+)", route)
    return re_path(rf"^v1/{pattern}/?$", view, name=name)


urlpatterns = [
    path("keys/", keys.key_list, name="keys"),
    path("keys/<int:pk>/revoke/", keys.key_revoke, name="key_revoke"),
    re_path(r"^v1/?$", entry.entry_point, name="entry"),
    re_path(r"^v1/openapi\.json$", entry.openapi_document, name="openapi"),
    api("people", people.PeopleView.as_view(), "people"),
    api("people/<person_id>", people.PersonView.as_view(), "person"),
    api("people/<person_id>/taggings", people.PersonTaggingsView.as_view(), "person_taggings"),
    api("tags", tags.TagsView.as_view(), "tags"),
    api("tags/<tag_id>", tags.TagView.as_view(), "tag"),
    api("tags/<tag_id>/taggings", tags.TaggingsView.as_view(), "taggings"),
    api("tags/<tag_id>/taggings/<tagging_id>", tags.TaggingView.as_view(), "tagging"),
    api("events", events.EventsView.as_view(), "events"),
    api("events/<event_id>", events.EventView.as_view(), "event"),
    # The record attendance helper's keyless posts take a comment and guests besides the Join
    # page's fields (Endpoint.helper_fields).
    api(
        "events/<event_id>/attendances",
        events.AttendancesView.as_view(
            helper_fields=frozenset({"comment", "guests", "rallypoint:guests"})
        ),
        "attendances",
    ),
    api(
        "events/<event_id>/attendances/<attendance_id>",
        events.AttendanceView.as_view(),
        "attendance",
    ),
    api(
        "people/<person_id>/attendances",
        events.PersonAttendancesView.as_view(),
        "person_attendances",
    ),
    api("messages", messages.MessagesView.as_view(), "messages"),
    api("messages/<message_id>", messages.MessageView.as_view(), "message"),
    api("messages/<message_id>/send", messages.MessageSendView.as_view(), "message_send"),
    api(
        "messages/<message_id>/schedule", messages.MessageScheduleView.as_view(), "message_schedule"
    ),
    api("lists", lists.ListsView.as_view(), "lists"),
    api("lists/<list_id>", lists.ListView.as_view(), "list"),
    api("lists/<list_id>/items", lists.ItemsView.as_view(), "items"),
    api("lists/<list_id>/items/<item_id>", lists.ItemView.as_view(), "item"),
    api("insights/spread", insights.SpreadView.as_view(), "insights_spread"),
    # Petitions and forms: one set of views, told which kind they serve.
    *[
        route
        for r in (PETITIONS, FORMS)
        for route in (
            api(r.plural, actions.ActionsView.as_view(resource=r), r.plural),
            api(f"{r.plural}/<action_id>", actions.ActionView.as_view(resource=r), r.plural[:-1]),
            api(
                f"{r.plural}/<action_id>/{r.item_plural}",
                actions.SubmissionsView.as_view(resource=r),
                r.item_plural,
            ),
            api(
                f"{r.plural}/<action_id>/{r.item_plural}/<item_id>",
                actions.SubmissionView.as_view(resource=r),
                r.item,
            ),
            api(
                f"people/<person_id>/{r.item_plural}",
                actions.PersonSubmissionsView.as_view(resource=r),
                f"person_{r.item_plural}",
            ),
        )
    ],
]
