"""Who may open what: every URL pattern (API included) against an explicit table.

The routes come from the URL conf itself, so a new route without a row fails
`test_permission_matrix_has_a_row_for_every_route` with its name. Each route is requested with GET
and POST as an anonymous visitor, as a supporter (an account with a person, no role) and as an
organizer, with its path parameters filled by real objects. A POST that a caller may not make
must change nothing in the database, and no GET writes anything (a GET never deletes) unless
its row says so.

Adding a route = one line in ROUTES: its name and a preset (or a Row of its own).
Answers: a status code, or LOGIN for "302 to the login page".
"""

import io
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from PIL import Image

from rallypoint.api.services import apikey_create
from rallypoint.imports.services import import_job_create
from rallypoint.messaging.services.images import mail_image_upload
from rallypoint.segments.services import segment_create
from rallypoint.webhooks.models import Delivery, Hook
from tests.actions.factories import ActionFactory, FormFactory, SubmissionFactory
from tests.events.factories import EventFactory, EventHostFactory, RsvpFactory, person_with_email
from tests.factories import (
    OrganizerFactory,
    TagFactory,
    TaggingFactory,
    UserFactory,
)
from tests.groups.factories import GroupFactory, MembershipFactory
from tests.messaging.factories import MailingFactory
from tests.mission.factories import GoalFactory

LOGIN = "login"
Answer = int | str
Callers = tuple[Answer, Answer, Answer]  # anonymous, supporter, organizer


@dataclass(frozen=True)
class Row:
    get: Callers
    post: Callers
    # Whether an anonymous / a supporter POST may write to the database at all (a sign-up, a
    # signature, a join). Every other POST of theirs must leave it exactly as it was.
    writes: tuple[bool, bool] = (False, False)
    # Whether a GET may write anything (for anyone, organizers included): a GET never deletes.
    get_writes: bool = False


# Presets, each (anonymous, supporter, organizer) for GET and for POST.
PUBLIC = Row(get=(200, 200, 200), post=(405, 405, 405))
PUBLIC_PAGE = Row(get=(200, 200, 200), post=(200, 200, 200))  # a POST shows the page again
ORGANIZER = Row(get=(LOGIN, 403, 200), post=(LOGIN, 403, 405))
ORGANIZER_PAGE = Row(get=(LOGIN, 403, 200), post=(LOGIN, 403, 200))  # POST: shown again
ORGANIZER_FORM_400 = Row(get=(LOGIN, 403, 200), post=(LOGIN, 403, 400))  # POST: refused fields
ORGANIZER_ASK = Row(get=(LOGIN, 403, 200), post=(LOGIN, 403, 302))  # GET asks, POST acts
ORGANIZER_POST = Row(get=(LOGIN, 403, 405), post=(LOGIN, 403, 302))
# Pages of an event's hosts or a group's leaders: the supporter here is neither.
HOST_PAGE = ORGANIZER_PAGE
HOST_FORM_400 = ORGANIZER_FORM_400
HOST_ASK = ORGANIZER_ASK
HOST_POST = Row(get=(LOGIN, 405, 405), post=(LOGIN, 403, 302))  # login first, then POST only
ADMIN = Row(get=(LOGIN, 403, 403), post=(LOGIN, 403, 403))  # organizers are not admins
SIGNED_IN = Row(get=(LOGIN, 200, 200), post=(LOGIN, 200, 200))
SIGNED_IN_FORM_400 = Row(get=(LOGIN, 200, 200), post=(LOGIN, 400, 400))
API_KEY = Row(get=(401, 401, 401), post=(401, 401, 401))  # the API takes keys, not sessions
API_HELPER = Row(get=(401, 401, 401), post=(400, 400, 400))  # keyless POST: Join fields only
SIGNED_LINK = Row(get=(400, 400, 400), post=(400, 400, 400))  # a bad signature is refused
ANYONE_POST = Row(get=(405, 405, 405), post=(302, 302, 302))

ROUTES: dict[str, Row] = {
    # actions
    "actions:organize_list": ORGANIZER_PAGE,
    "actions:organize_new": ORGANIZER_PAGE,
    "actions:organize_detail": ORGANIZER_PAGE,
    "actions:organize_edit": ORGANIZER_PAGE,
    "actions:organize_questions": ORGANIZER_PAGE,
    "actions:organize_status": ORGANIZER_POST,
    "actions:organize_export": ORGANIZER_PAGE,
    "actions:detail": Row(get=(200, 200, 200), post=(302, 302, 302), writes=(True, True)),
    "actions:embed": PUBLIC_PAGE,
    "actions:embed_js": PUBLIC,
    "actions:thanks": PUBLIC,
    "actions:thanks_email": ANYONE_POST,
    "actions:embed_thanks": PUBLIC,
    # mission
    "mission:organize_list": ORGANIZER_PAGE,
    "mission:organize_new": ORGANIZER_PAGE,
    "mission:organize_edit": ORGANIZER_PAGE,
    "mission:organize_goals": ORGANIZER_ASK,
    "mission:organize_goal_edit": ORGANIZER_ASK,
    "mission:organize_goal_delete": ORGANIZER_ASK,
    "mission:organize_share": ORGANIZER_ASK,
    "mission:organize_points": ORGANIZER_PAGE,
    "mission:detail": PUBLIC_PAGE,
    "mission:live": PUBLIC_PAGE,
    "mission:leaderboard": PUBLIC_PAGE,
    # core
    "core:home": PUBLIC_PAGE,
    "core:organize": ORGANIZER_PAGE,
    "core:favicon": Row(get=(301, 301, 301), post=(301, 301, 301)),  # a redirect to the icon
    "core:people_bulk": ORGANIZER_POST,  # nothing ticked: back to the list
    # accounts
    "accounts:login": Row(get=(200, 302, 302), post=(200, 302, 302)),
    "accounts:logout": Row(get=(405, 405, 405), post=(302, 302, 302), writes=(False, True)),
    "accounts:signup": Row(get=(200, 302, 302), post=(302, 302, 302), writes=(True, False)),
    "accounts:signup_sent": PUBLIC_PAGE,
    "accounts:signup_confirm": SIGNED_LINK,
    "accounts:unsubscribe": SIGNED_LINK,
    "accounts:after_login": Row(get=(LOGIN, 302, 302), post=(LOGIN, 302, 302)),
    "accounts:account": SIGNED_IN,
    "accounts:subscription": Row(
        get=(LOGIN, 405, 405), post=(LOGIN, 302, 302), writes=(False, True)
    ),
    "accounts:password_change": SIGNED_IN,
    "accounts:password_reset": Row(get=(200, 200, 200), post=(302, 302, 302)),
    "accounts:password_reset_done": PUBLIC,
    "accounts:password_reset_confirm": PUBLIC_PAGE,
    "accounts:password_reset_complete": PUBLIC,
    "accounts:team": ADMIN,
    "accounts:team_role": ADMIN,
    # people
    "people:join": PUBLIC_PAGE,
    "people:join_done": PUBLIC_PAGE,
    "people:list": ORGANIZER_PAGE,
    "people:detail": ORGANIZER_PAGE,
    "people:edit": ORGANIZER_ASK,
    "people:tag_add": ORGANIZER_POST,
    "people:tag_remove": ORGANIZER_POST,
    "people:contact_add": Row(get=(LOGIN, 403, 405), post=(LOGIN, 403, 400)),
    "people:email_status": ORGANIZER_POST,
    "people:merge": ORGANIZER_PAGE,
    "people:merge_confirm": ORGANIZER_ASK,
    # segments
    "segments:list": ORGANIZER_PAGE,
    "segments:new": ORGANIZER_FORM_400,
    "segments:preview": Row(get=(LOGIN, 403, 405), post=(LOGIN, 403, 200)),
    "segments:detail": ORGANIZER_PAGE,
    "segments:edit": ORGANIZER_FORM_400,
    "segments:count": ORGANIZER_PAGE,
    "segments:delete": ORGANIZER_ASK,
    # imports
    "imports:list": ORGANIZER_PAGE,
    "imports:upload": Row(get=(LOGIN, 403, 405), post=(LOGIN, 403, 400)),
    "imports:export": Row(ORGANIZER_PAGE.get, ORGANIZER_PAGE.post, get_writes=True),  # audited
    "imports:duplicates": ORGANIZER_PAGE,
    "imports:duplicates_merge": ORGANIZER_POST,
    "imports:detail": Row(get=(LOGIN, 403, 302), post=(LOGIN, 403, 302)),  # → column mapping
    "imports:columns": ORGANIZER_FORM_400,
    "imports:progress": ORGANIZER_PAGE,
    "imports:errors_csv": ORGANIZER,
    "imports:changes_csv": ORGANIZER,
    "imports:cancel": ORGANIZER_POST,
    "imports:resume": ORGANIZER_POST,
    "imports:remove_file": ORGANIZER_POST,
    # ledger ("My Rallypoint": its own signed-link session, none here)
    "ledger:dashboard": PUBLIC_PAGE,
    "ledger:dashboard_link": SIGNED_LINK,
    "ledger:link_request": ANYONE_POST,
    "ledger:visibility": Row(get=(405, 405, 405), post=(302, 302, 302), writes=(False, True)),
    "ledger:password": ANYONE_POST,
    "ledger:leave": ANYONE_POST,
    # sharing
    "sharing:go": SIGNED_LINK,
    # events
    "events:list": PUBLIC_PAGE,
    "events:create": SIGNED_IN_FORM_400,
    "events:mine": SIGNED_IN,
    "events:organize": ORGANIZER_PAGE,
    "events:organize_settings": ORGANIZER_POST,
    "events:review": ORGANIZER_POST,
    "events:campaign_feed": PUBLIC_PAGE,
    "events:rsvp_done": Row(get=(403, 403, 403), post=(403, 403, 403)),  # unsigned: refused
    "events:rsvp_cancel": Row(get=(403, 403, 403), post=(403, 403, 403)),  # unsigned: refused
    "events:rsvp_shifts": Row(get=(403, 403, 403), post=(403, 403, 403)),  # unsigned, not theirs
    "events:detail": PUBLIC_PAGE,
    "events:rsvp": Row(get=(405, 405, 405), post=(302, 302, 302), writes=(True, True)),
    "events:rsvp_sent": PUBLIC_PAGE,
    "events:ics": PUBLIC_PAGE,
    "events:manage": HOST_PAGE,
    "events:edit": HOST_FORM_400,
    "events:cohost": HOST_POST,
    "events:message": HOST_PAGE,
    "events:sign_in_sheet": HOST_PAGE,
    "events:checkin": HOST_PAGE,
    "events:walk_in": HOST_POST,
    "events:checkin_toggle": HOST_POST,
    "events:duplicate": HOST_PAGE,
    "events:cancel": HOST_ASK,
    # events (shifts, questions, series)
    "events:attendees_csv": HOST_PAGE,  # the attendees' CSV, with shifts and answers
    "events:organize_template": ORGANIZER_FORM_400,  # a campaign's day of action; POST: no dates
    # groups
    "groups:list": PUBLIC_PAGE,
    "groups:create": SIGNED_IN_FORM_400,
    "groups:organize": ORGANIZER_PAGE,
    "groups:detail": PUBLIC_PAGE,
    "groups:feed": PUBLIC_PAGE,
    "groups:join": Row(get=(405, 405, 405), post=(302, 302, 302), writes=(True, True)),
    # POST only; a visitor who is not a member (by login, dashboard link or this session) logs in
    "groups:leave": Row(get=(405, 405, 405), post=(LOGIN, 302, 302)),
    "groups:manage": HOST_PAGE,
    "groups:edit": HOST_FORM_400,
    "groups:announce": HOST_ASK,
    "groups:member_action": HOST_POST,
    "groups:review": ORGANIZER_POST,
    "groups:merge": ORGANIZER_ASK,
    # api: keys (organizer pages), then the OSDI API
    "api:keys": ORGANIZER_FORM_400,
    "api:key_revoke": ORGANIZER_POST,
    "api:entry": PUBLIC,
    "api:openapi": PUBLIC,
    "api:people": API_HELPER,
    "api:person": API_KEY,
    "api:person_taggings": API_KEY,
    "api:tags": API_KEY,
    "api:tag": API_KEY,
    "api:taggings": API_KEY,
    "api:tagging": API_KEY,
    "api:events": API_KEY,
    "api:event": API_KEY,
    "api:attendances": API_HELPER,
    "api:attendance": API_KEY,
    "api:person_attendances": API_KEY,
    "api:lists": API_KEY,
    "api:messages": API_KEY,
    "api:message": API_KEY,
    "api:message_send": API_KEY,
    "api:message_schedule": API_KEY,
    "api:list": API_KEY,
    "api:items": API_KEY,
    "api:item": API_KEY,
    "api:insights_spread": API_KEY,
    "api:petitions": API_KEY,
    "api:petition": API_KEY,
    "api:signatures": API_HELPER,
    "api:signature": API_KEY,
    "api:person_signatures": API_KEY,
    "api:forms": API_KEY,
    "api:form": API_KEY,
    "api:submissions": API_HELPER,
    "api:submission": API_KEY,
    "api:person_submissions": API_KEY,
    # webhooks
    "webhooks:list": ORGANIZER_PAGE,
    "webhooks:create": ORGANIZER_FORM_400,
    "webhooks:detail": ORGANIZER_FORM_400,
    "webhooks:toggle": ORGANIZER_POST,
    "webhooks:rotate_secret": ORGANIZER_POST,
    "webhooks:test": ORGANIZER_POST,
    "webhooks:delete": ORGANIZER_POST,
    "webhooks:delivery": ORGANIZER_PAGE,
    "webhooks:delivery_resend": ORGANIZER_POST,
    # messaging (tracking, unsubscribes and preferences, bounces): signed links in sent mail
    "messaging:track_click": Row(get=(400, 400, 400), post=(405, 405, 405)),
    "messaging:track_open": PUBLIC,  # the pixel answers a GIF whatever the token
    "messaging:unsubscribe": SIGNED_LINK,
    "messaging:preferences": SIGNED_LINK,
    "messaging:resubscribe": SIGNED_LINK,
    "messaging:image": PUBLIC,  # an image in mail: no login
    "messaging:provider_webhook": Row(get=(404, 404, 404), post=(404, 404, 404)),  # no secret
    # messaging (compose, send, report): the organizer's mailing pages
    "messaging:list": ORGANIZER_PAGE,
    "messaging:new": ORGANIZER_FORM_400,
    "messaging:audience_count": Row(get=(LOGIN, 403, 405), post=(LOGIN, 403, 200)),
    "messaging:campaign_links": ORGANIZER,
    "messaging:image_upload": Row(get=(LOGIN, 403, 405), post=(LOGIN, 403, 400)),  # no file: 400
    "messaging:detail": ORGANIZER_PAGE,
    "messaging:edit": ORGANIZER_FORM_400,
    "messaging:autosave": Row(get=(LOGIN, 403, 405), post=(LOGIN, 403, 200)),  # says what's wrong
    "messaging:test": ORGANIZER_POST,
    "messaging:send": ORGANIZER_ASK,
    "messaging:schedule": ORGANIZER_POST,
    "messaging:unschedule": ORGANIZER_POST,
    "messaging:pause": ORGANIZER_POST,
    "messaging:resume": ORGANIZER_POST,
    "messaging:cancel": ORGANIZER_ASK,
    "messaging:progress": ORGANIZER,
    "messaging:duplicate": ORGANIZER_POST,
    "messaging:delete": ORGANIZER_ASK,
    "messaging:report": ORGANIZER_PAGE,
    "messaging:export": ORGANIZER_PAGE,
    # insights (presence, spread backtest, whom to ask next)
    "insights:steer": ORGANIZER,
    "insights:presence": ORGANIZER,
    "insights:presence_import": ORGANIZER_FORM_400,  # POST without a file: refused
    "insights:presence_account_new": ORGANIZER_FORM_400,
    "insights:presence_account": ORGANIZER_FORM_400,
    "insights:presence_snapshot_add": Row(get=(LOGIN, 403, 405), post=(LOGIN, 403, 400)),
    "insights:presence_account_delete": ORGANIZER_ASK,
    "insights:spread": ORGANIZER_ASK,  # POST queues a backtest
    "insights:spread_progress": ORGANIZER,
    "insights:ask": ORGANIZER_FORM_400,  # POST refused until a backtest is good enough
    "insights:ask_progress": ORGANIZER,
    "insights:ask_segment": Row(get=(LOGIN, 403, 405), post=(LOGIN, 403, 400)),  # no run given
    # insights (overview, channels, cascades)
    "insights:overview": ORGANIZER,
    "insights:channels": ORGANIZER,
    "insights:cascades": ORGANIZER,
}


# --- the objects behind the path parameters ---------------------------------------------------


def make_world(tmp_path: Path) -> SimpleNamespace:
    w = SimpleNamespace()
    w.organizer = OrganizerFactory(person=person_with_email("organizer@example.org"))
    w.supporter = UserFactory(person=person_with_email("supporter@example.org"))
    w.person = person_with_email("ana@example.org", given_name="Ana")
    w.other_person = person_with_email("ana.r@example.org", given_name="Anna")
    w.member_user = UserFactory(person=w.person)
    w.tag = TagFactory(name="volunteer")
    w.tagging = TaggingFactory(person=w.person, tag=w.tag)
    w.email = w.person.email_addresses.get()
    w.action = ActionFactory(slug="fix-the-bus")
    w.form = FormFactory(slug="survey", campaign=w.action.campaign)
    w.campaign = w.action.campaign
    w.goal = GoalFactory(campaign=w.campaign)
    w.submission = SubmissionFactory(action=w.action, person=w.person)
    w.form_submission = SubmissionFactory(action=w.form, person=w.person)
    w.event = EventFactory(title="Canvass", campaign=w.campaign)
    EventHostFactory(event=w.event, person=w.other_person)
    w.rsvp = RsvpFactory(event=w.event, person=w.person)
    w.group = GroupFactory(name="Eastside", slug="eastside")
    w.group2 = GroupFactory(name="Westside", slug="westside")
    MembershipFactory(group=w.group, person=w.other_person, role="leader")
    w.membership = MembershipFactory(group=w.group, person=w.person)
    w.segment = segment_create(name="Everyone", definition={}, actor=w.organizer)
    csv = tmp_path / "people.csv"
    csv.write_text("email,first_name\nzoe@example.org,Zoe\n")
    w.job = import_job_create(file=csv, actor=w.organizer)
    w.hook = Hook.objects.create(
        name="CRM", url="https://hooks.example.org/in", event_types=[], created_by=w.organizer
    )
    w.delivery = Delivery.objects.create(hook=w.hook, body="[]")
    w.key, _ = apikey_create(name="Warehouse", scope="read-write", actor=w.organizer)
    w.mailing = MailingFactory(include=[w.segment])
    dot = io.BytesIO()
    Image.new("P", (1, 1)).save(dot, format="GIF")
    w.media_root = tmp_path / "media"  # each test's MEDIA_ROOT (see _media below)
    with override_settings(MEDIA_ROOT=w.media_root):
        w.mail_image = mail_image_upload(
            SimpleUploadedFile("dot.gif", dot.getvalue(), "image/gif")
        ).image
    w.presence_account = apps.get_model("insights", "PresenceAccount").objects.create(
        platform="x", handle="@matrix"
    )
    # Each caller logs in afresh for every route (sessions may live in a cache that each test
    # clears).
    w.callers = [("anonymous", None), ("supporter", w.supporter), ("organizer", w.organizer)]
    return w


def path_params(w: SimpleNamespace) -> dict[tuple[str, str], Any]:
    """(route name, parameter) or, for every route of a namespace, (namespace, parameter)."""
    return {
        ("api:form", "action_id"): str(w.form.uuid),
        ("api:submissions", "action_id"): str(w.form.uuid),
        ("api:submission", "action_id"): str(w.form.uuid),
        ("api:submission", "item_id"): str(w.form_submission.pk),
        ("api:signature", "item_id"): str(w.submission.pk),
        ("actions", "pk"): w.action.pk,
        ("actions", "slug"): w.action.slug,
        ("actions", "token"): "-",
        ("mission", "slug"): w.campaign.slug,
        ("mission", "goal_id"): w.goal.pk,
        ("accounts", "pk"): w.member_user.pk,
        ("accounts", "uidb64"): "MQ",
        ("accounts", "token"): "set-password",
        ("people", "pk"): w.person.pk,
        ("people", "other_pk"): w.other_person.pk,
        ("people", "tag_id"): w.tag.pk,
        ("people", "email_id"): w.email.pk,
        ("segments", "slug"): w.segment.slug,
        ("imports", "uuid"): w.job.uuid,
        ("ledger", "token"): "not-a-token",
        ("sharing", "channel"): "email",
        ("events", "uuid"): w.event.uuid,
        ("events", "rsvp_uuid"): w.rsvp.uuid,
        ("events", "slug"): w.campaign.slug,
        ("groups", "slug"): w.group.slug,
        ("groups", "membership_id"): w.membership.pk,
        ("api", "pk"): w.key.pk,
        ("api", "person_id"): str(w.person.uuid),
        ("api", "tag_id"): str(w.tag.uuid),
        ("api", "tagging_id"): str(w.tagging.uuid),
        ("api", "event_id"): str(w.event.uuid),
        ("api", "attendance_id"): str(w.rsvp.uuid),
        ("api", "list_id"): str(w.segment.uuid),
        ("api", "message_id"): str(w.mailing.uuid),
        ("api", "item_id"): str(w.person.uuid),
        ("api", "action_id"): str(w.action.uuid),
        ("webhooks", "pk"): w.hook.pk,
        ("webhooks", "delivery_pk"): w.delivery.pk,
        # messaging (tracking, unsubscribes and preferences, bounces)
        ("messaging:track_click", "token"): "-",
        ("messaging:track_open", "token"): "-",
        ("messaging:unsubscribe", "token"): "-",
        ("messaging:preferences", "token"): "-",
        ("messaging:resubscribe", "token"): "-",
        ("messaging:provider_webhook", "esp"): "postmark",
        ("messaging:image", "name"): f"{w.mail_image.token}.gif",
        # messaging (compose, send, report)
        ("messaging", "pk"): w.mailing.pk,
        # insights (presence, spread backtest, whom to ask next)
        ("insights:spread", "slug"): w.campaign.slug,
        ("insights:spread_progress", "slug"): w.campaign.slug,
        ("insights:ask", "slug"): w.campaign.slug,
        ("insights:ask_progress", "slug"): w.campaign.slug,
        ("insights:ask_segment", "slug"): w.campaign.slug,
        ("insights", "pk"): w.presence_account.pk,
    }


# What a POST carries: the fields an attacker would send to make a write land. Routes that need
# particular values say so here.
FORM_BODY = {
    "confirm": "merge",
    "confirm_differences": "1",
    "decision": "approve",
    "action": "make_leader",
    "role": "admin",
    "status": "unsubscribed",
    "name": "Matrix",
    "title": "Matrix",
    "body": "Matrix body",
    "given_name": "Mallory",
    "family_name": "Matrix",
    "email": "mallory@example.org",
    "phone": "+12025550199",
    "postal_code": "80202",
    "reason": "Matrix",
    "kind": "sign",
    "target": "10",
    "url": "https://hooks.example.org/other",
}


def post_body(name: str, w: SimpleNamespace) -> dict[str, Any]:
    special = {
        "groups:merge": {"target": w.group2.slug},
        "imports:duplicates_merge": {
            "merge": "1",
            "keep-1": str(w.person.pk),
            "people-1": f"{w.person.pk},{w.other_person.pk}",
        },
    }
    return {**FORM_BODY, **special.get(name, {})}


API_BODY = {
    "person": {
        "given_name": "Mallory",
        "email_addresses": [{"address": "ana@example.org"}],
        "phone_numbers": [{"number": "+12025550199"}],
    },
    "given_name": "Mallory",
    "name": "Matrix",
    "title": "Matrix",
    "email_addresses": [{"address": "ana@example.org"}],
}


# --- walking the URL conf -------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    namespace: str
    params: tuple[str, ...]


def all_routes() -> list[Route]:
    """Every pattern of the URL conf, through nested includes, with the path parameters of the
    include prefixes and its own."""
    found: list[Route] = []

    def walk(patterns, namespace: str, prefix_params: tuple[str, ...]) -> None:
        for entry in patterns:
            params = prefix_params + tuple(entry.pattern.regex.groupindex)
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, inner, params)
            elif isinstance(entry, URLPattern):
                # An unnamed pattern can't be reversed: its key is the pattern, and its test
                # fails asking for a name.
                name = f"{namespace}{entry.name or entry.pattern}"
                found.append(Route(name, namespace.rstrip(":").split(":")[-1], params))

    walk(get_resolver().url_patterns, "", ())
    return found


ROUTE_LIST = all_routes()


def route_url(route: Route, w: SimpleNamespace) -> str:
    values = path_params(w)
    kwargs = {}
    for param in route.params:
        key = next(
            (k for k in ((route.name, param), (route.namespace, param)) if k in values), None
        )
        assert key is not None, (
            f"{route.name}: no object for its path parameter {param!r}: "
            f"add {(route.namespace, param)} to path_params() in this file."
        )
        kwargs[param] = values[key]
    try:
        return reverse(route.name, kwargs=kwargs)
    except NoReverseMatch as exc:
        raise AssertionError(f"{route.name}: can't build its URL (is it named?): {exc}") from exc


def answer(response) -> Answer:
    if response.status_code == 302 and response.url.startswith(reverse("accounts:login")):
        return LOGIN
    return response.status_code


def database_writes() -> int | dict[str, list[tuple]]:
    """Something that changes whenever anything is written: SQLite's count of changed rows
    (cheap), elsewhere every row of every table."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.total_changes
    return {
        model._meta.label_lower: list(model.objects.order_by("pk").values_list())
        for model in apps.get_models()
        if not model._meta.proxy
        and model._meta.managed
        and model._meta.label_lower != "sessions.session"
    }


def request(client: Client, method: str, url: str, name: str, w) -> Any:
    if name.startswith("api:") and "/api/v1" in url:
        if method == "get":
            return client.get(url)
        return client.post(url, API_BODY, content_type="application/json")
    if method == "get":
        return client.get(url)
    return client.post(url, post_body(name, w))


def observe(route: Route, w: SimpleNamespace) -> tuple[dict[str, Callers], list[str]]:
    """The answers each caller gets, and the requests that wrote when they may not."""
    url = route_url(route, w)
    expected = ROUTES.get(route.name, Row(get=(0, 0, 0), post=(0, 0, 0)))
    seen: dict[str, list[Answer]] = {"get": [], "post": []}
    wrote = []
    for index, (who, user) in enumerate(w.callers):
        client = Client()
        if user is not None:
            client.force_login(user)
        for method in ("get", "post"):
            if method == "get":
                watch = not expected.get_writes
            else:
                watch = index < 2 and not expected.writes[index]
            before = database_writes() if watch else None
            seen[method].append(answer(request(client, method, url, route.name, w)))
            if watch and database_writes() != before:
                wrote.append(f"{who} {method.upper()}")
    return {"get": tuple(seen["get"]), "post": tuple(seen["post"])}, wrote  # type: ignore[dict-item]


# --- the tests ------------------------------------------------------------------------------


def test_permission_matrix_has_a_row_for_every_route():
    names = [route.name for route in ROUTE_LIST]
    missing = [name for name in names if name not in ROUTES]
    stale = sorted(set(ROUTES) - set(names))
    assert not missing, (
        "Routes without a decision in the permission matrix (add a line to ROUTES in "
        f"tests/core/test_permission_matrix.py): {missing}"
    )
    assert not stale, f"Rows for routes that no longer exist: {stale}"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """One set of objects for every route, made once: each test runs in its own transaction
    inside this one, so what a route's organizer POST does is undone before the next route."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield make_world(tmp_path_factory.mktemp("matrix"))
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _media(settings, world):
    """Uploaded files are where the world stored them."""
    settings.MEDIA_ROOT = world.media_root


def row_source(name: str, seen: dict[str, Callers]) -> str:
    def callers(values: Callers) -> str:
        return "(" + ", ".join("LOGIN" if v == LOGIN else str(v) for v in values) + ")"

    return f'"{name}": Row(get={callers(seen["get"])}, post={callers(seen["post"])}),'


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTE_LIST, ids=lambda r: r.name)
def test_permission_matrix_route_answers_as_decided(route, world):
    seen, wrote = observe(route, world)
    # A route without a row shows what it answers today, as a row to review and paste.
    assert route.name in ROUTES, (
        f"{route.name} has no row in ROUTES: decide who may use it. "
        f"Today it answers: {row_source(route.name, seen)}"
    )
    expected = ROUTES[route.name]
    assert (seen["get"], seen["post"]) == (expected.get, expected.post), (
        f"{route.name} answers GET {seen['get']} POST {seen['post']} "
        f"(anonymous, supporter, organizer); the table says GET {expected.get} "
        f"POST {expected.post}"
    )
    assert wrote == [], f"{route.name}: {' and '.join(wrote)} changed the database"
