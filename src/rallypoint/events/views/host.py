"""Hosting: propose an event, run it from the dashboard, check people in on the day."""

from functools import wraps
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from rallypoint.core.downloads import csv_response
from rallypoint.people.services import PersonData, find_person

from .. import queries
from ..export import attendee_rows
from ..forms import CancelForm, DuplicateForm, EventForm, HostForms, MessageForm, WalkInForm
from ..hooks import event_groups
from ..links import rsvp_page_path
from ..models import Approval, Rsvp, RsvpStatus
from ..permissions import is_organizer, person_for, require_manager, visit_actor
from ..services import (
    Scope,
    event_cancel,
    event_create,
    event_duplicate,
    event_message_attendees,
    event_update,
    rsvp_check_in,
    rsvp_create,
    series_create,
)
from ..services.events import event_cohost_add


def host_login_required(view):
    """Hosting needs to know who you are (hosts see their guests' contact details): a login, or
    the dashboard link a supporter was emailed. Anyone else goes to the login page, which says
    why and offers the link by email."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if visit_actor(request) is None:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def _managed(request, uuid):
    event = queries.event_by_uuid(uuid)
    if event is None:
        raise Http404("No such event.")
    require_manager(visit_actor(request), event)
    return event


def _group_for(request):
    slug = request.GET.get("group") or request.POST.get("group")
    if not slug:
        return None
    return event_groups().by_slug(slug)


def _host_form_page(request, forms_: HostForms, context: dict):
    return render(
        request,
        "events/form.html",
        {**context, "form": forms_.event, "forms": forms_},
        status=400 if forms_.is_bound and forms_.has_errors else 200,
    )


@host_login_required
def event_create_view(request):
    group = _group_for(request)
    campaign = request.GET.get("campaign", "")
    template = queries.live_template(campaign)
    forms_ = HostForms(
        request.POST or None,
        initial={"campaign": campaign or None},
        organizer=is_organizer(request.user),
        creating=True,
        template=template,
    )
    if request.method == "POST" and forms_.is_valid():
        data = forms_.event.to_data(group=group)
        shifts = forms_.shift_rows(ZoneInfo(data.timezone))
        questions = forms_.question_rows()
        repeat = forms_.event.repeat_data()
        actor = visit_actor(request)
        try:
            if repeat is not None:
                events = series_create(
                    data=data,
                    repeat=repeat,
                    host=person_for(actor),
                    actor=actor,
                    shifts=shifts,
                    questions=questions,
                )
            else:
                events = [
                    event_create(
                        data=data,
                        host=person_for(actor),
                        actor=actor,
                        shifts=shifts,
                        questions=questions,
                    )
                ]
        except ValidationError as exc:
            forms_.add_service_errors(exc)
        except PermissionDenied as exc:
            forms_.event.add_error(None, str(exc))
        else:
            event = events[0]
            many = f" All {len(events)} events of the series are made." if len(events) > 1 else ""
            if event.approval == Approval.PENDING:
                messages.success(
                    request,
                    "Thanks! Your event is waiting for an organizer's approval. "
                    f"We'll email you when it's live.{many}",
                )
            else:
                messages.success(
                    request, f"Your event is live. Share it to get people there.{many}"
                )
            return redirect("events:manage", event.uuid)
    return _host_form_page(
        request, forms_, {"group": group, "creating": True, "template": template}
    )


@host_login_required
def event_edit(request, uuid):
    event = _managed(request, uuid)
    template = queries.live_template(event.campaign.slug) if event.campaign else None
    forms_ = HostForms(
        request.POST or None,
        event=event,
        initial=EventForm.initial_for(event),
        organizer=is_organizer(request.user),
        template=template,
    )
    if request.method == "POST" and forms_.is_valid():
        data = forms_.event.to_data(group=event.group)
        try:
            event_update(
                event=event,
                data=data,
                actor=visit_actor(request),
                shifts=forms_.shift_rows(ZoneInfo(data.timezone)),
                questions=forms_.question_rows(),
                scope=forms_.event.scope(),
            )
        except ValidationError as exc:
            forms_.add_service_errors(exc)
        except PermissionDenied as exc:
            forms_.event.add_error(None, str(exc))
        else:
            messages.success(request, "Saved. If the time or place changed, attendees were told.")
            return redirect("events:manage", event.uuid)
    return _host_form_page(
        request, forms_, {"event": event, "group": event.group, "template": template}
    )


@host_login_required
def event_manage(request, uuid):
    event = _managed(request, uuid)
    rsvps = list(queries.attendees(event))
    return render(
        request,
        "events/manage.html",
        {
            "event": event,
            "going": [r for r in rsvps if r.status == RsvpStatus.ACCEPTED],
            "waiting": [r for r in rsvps if r.status == RsvpStatus.WAITLISTED],
            "counts": queries.rsvp_counts(event),
            "hosts": list(event.hosts.all()),
            "questions": list(event.questions.all()),
            "shifts": queries.shift_rosters(event),
            "series": queries.series_events(event),
        },
    )


@host_login_required
def event_attendees_csv(request, uuid):
    """Everyone who RSVP'd (going, waiting, cancelled), with their shifts and answers."""
    event = _managed(request, uuid)
    name = f"attendees-{event.local_start:%Y-%m-%d}-{event.uuid}.csv"
    return csv_response(attendee_rows(event), name)


@host_login_required
@require_POST
def event_cohost(request, uuid):
    event = _managed(request, uuid)
    email = request.POST.get("email", "").strip()
    person = find_person(email=email) if email else None
    if person is None:
        messages.error(request, f"Nobody with the email “{email}” has an account or RSVP yet.")
    else:
        event_cohost_add(event=event, person=person, actor=visit_actor(request))
        messages.success(request, f"{person.full_name or email} is now a co-host.")
    return redirect("events:manage", event.uuid)


@host_login_required
def event_message(request, uuid):
    event = _managed(request, uuid)
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sent = event_message_attendees(
                event=event, actor=visit_actor(request), **form.cleaned_data
            )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name, errors)
        else:
            messages.success(request, f"Message queued for {sent.recipients} people.")
            return redirect("events:manage", event.uuid)
    return render(request, "events/message.html", {"event": event, "form": form})


def _shift_of(request, event):
    """The shift the check-in list is narrowed to (?shift=<id>), or None."""
    value = request.GET.get("shift") or request.POST.get("shift") or ""
    if not value.isdigit():
        return None
    return next((s for s in event.shifts.all() if s.pk == int(value)), None)


@host_login_required
def event_checkin(request, uuid):
    event = _managed(request, uuid)
    q = request.GET.get("q", "")
    shift = _shift_of(request, event)
    rsvps = queries.attendees(event, q=q, statuses=[RsvpStatus.ACCEPTED], shift=shift)
    context = {
        "event": event,
        "rsvps": rsvps,
        "q": q,
        "shift": shift,
        "shifts": list(event.shifts.all()),
        "walk_in_form": WalkInForm(event=event, initial={"shift": shift.pk if shift else None}),
        "counts": queries.rsvp_counts(event),
    }
    if request.htmx and request.GET.get("partial"):
        return render(request, "events/_checkin_rows.html", context)
    return render(request, "events/checkin.html", context)


@host_login_required
@require_POST
def event_checkin_toggle(request, uuid, rsvp_uuid):
    event = _managed(request, uuid)
    found = (
        Rsvp.objects.select_related("event", "person").filter(uuid=rsvp_uuid, event=event).first()
    )
    if found is None:
        raise Http404("No such RSVP for this event.")
    attended = request.POST.get("attended", "1") == "1"
    try:
        found = rsvp_check_in(rsvp=found, actor=visit_actor(request), attended=attended)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    if request.htmx:
        found = queries.attendees(event, statuses=[found.status]).get(pk=found.pk)
        return render(
            request,
            "events/_checkin_row.html",
            {"event": event, "rsvp": found, "shift": _shift_of(request, event)},
        )
    query = urlencode({"q": request.POST.get("q", ""), "shift": request.POST.get("shift", "")})
    return redirect(f"{reverse('events:checkin', args=[event.uuid])}?{query}")


@host_login_required
@require_POST
def event_walk_in(request, uuid):
    event = _managed(request, uuid)
    form = WalkInForm(request.POST, event=event)
    if form.is_valid():
        c = form.cleaned_data
        try:
            rsvp_create(
                event=event,
                person_data=PersonData(
                    given_name=c["given_name"],
                    family_name=c.get("family_name", ""),
                    email=c.get("email", ""),
                    phone=c.get("phone", ""),
                    source="walk-in",
                ),
                walk_in=True,
                attended=True,
                source="walk-in",
                shifts=[c["shift"]] if c.get("shift") else [],
            )
        except ValidationError as exc:
            for name, errors in getattr(exc, "message_dict", {"__all__": exc.messages}).items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, f"{c['given_name']} is checked in.")
            return redirect("events:checkin", event.uuid)
    context = {
        "event": event,
        "rsvps": queries.attendees(event, statuses=[RsvpStatus.ACCEPTED]),
        "q": "",
        "shift": None,
        "shifts": list(event.shifts.all()),
        "walk_in_form": form,
        "counts": queries.rsvp_counts(event),
    }
    return render(request, "events/checkin.html", context, status=400)


@host_login_required
def event_duplicate_view(request, uuid):
    event = _managed(request, uuid)
    form = DuplicateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        starts = form.cleaned_data["starts_at"].replace(tzinfo=event.zone)
        try:
            copy = event_duplicate(
                event=event,
                actor=visit_actor(request),
                starts_at=starts,
                host=person_for(visit_actor(request)),
            )
        except ValidationError as exc:
            messages_list = (
                exc.message_dict.get("starts_at") if hasattr(exc, "error_dict") else None
            )
            form.add_error("starts_at", messages_list or exc.messages)
        else:
            messages.success(request, "Here's the copy. Check the details and share it.")
            return redirect("events:manage", copy.uuid)
    return render(request, "events/duplicate.html", {"event": event, "form": form})


@host_login_required
def event_cancel_view(request, uuid):
    event = _managed(request, uuid)
    form = CancelForm(request.POST or None, in_series=event.series_id is not None)
    if request.method == "POST" and form.is_valid():
        scope = form.cleaned_data.get("scope") or Scope.THIS
        event_cancel(
            event=event,
            actor=visit_actor(request),
            reason=form.cleaned_data["reason"],
            scope=scope,
        )
        if scope == Scope.THIS:
            messages.success(request, "The event is cancelled and everyone who RSVP'd was told.")
        else:
            messages.success(
                request,
                "This event and the following ones are cancelled, and everyone who RSVP'd "
                "was told.",
            )
        return redirect("events:manage", event.uuid)
    return render(request, "events/cancel.html", {"event": event, "form": form})


# Blank lines for walk-ins at the end of the printed sheet (after each shift's list).
SIGN_IN_BLANK_ROWS = 15
SIGN_IN_BLANK_ROWS_PER_SHIFT = 5


@host_login_required
def event_sign_in_sheet(request, uuid):
    """A printable sign-in sheet: everyone going, with a box to tick, then blank lines for
    walk-ins (name, email, phone), for a door without a phone or a signal. With shifts, a
    list per shift with its times (then anyone going in no shift)."""
    event = _managed(request, uuid)
    groups = queries.sign_in_groups(event)
    per_group = SIGN_IN_BLANK_ROWS_PER_SHIFT if len(groups) > 1 else SIGN_IN_BLANK_ROWS
    return render(
        request,
        "events/sign_in_sheet.html",
        {
            "event": event,
            "groups": groups,
            "going_count": len({r.pk for group in groups for r in group.going}),
            "blank_rows": range(per_group),
        },
    )


@host_login_required
def my_events(request):
    person = person_for(visit_actor(request))
    return render(
        request,
        "events/mine.html",
        {
            "hosting": queries.events_hosted_by(person),
            # Each RSVP's own page: its shifts, changing them, cancelling.
            "rsvps": [(rsvp, rsvp_page_path(rsvp)) for rsvp in queries.rsvps_of_person(person)],
        },
    )
