"""Finding events, RSVPing, confirmations and calendar files. Works without JavaScript."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from rallypoint.core.concurrency import write_slot
from rallypoint.core.forms import errors_to_form
from rallypoint.core.ratelimit import client_ip, hit
from rallypoint.mission.models import Campaign
from rallypoint.people.queries import session_remember, session_remembered, visitor_person
from rallypoint.people.services import PersonData

from .. import queries
from ..calendar import calendar_bytes
from ..forms import RsvpForm, SearchForm, ShiftChangeForm
from ..links import (
    rsvp_cancel_path,
    rsvp_page_path,
    rsvp_shifts_path,
    rsvp_token,
    rsvp_token_valid,
)
from ..models import Rsvp, RsvpStatus
from ..permissions import can_manage, can_view, person_of, visit_actor
from ..services import rsvp_cancel, rsvp_record_together, rsvp_shifts_change
from ..services.notify import rsvp_shift_signups, shifts_going

PAGE_SIZE = 20


def event_list(request):
    data = None
    if request.GET:
        # Show the radius and unit the search applies: a link with only a postal code searches
        # within the default radius, and the "Within" control must say so (not its first choice).
        data = request.GET.copy()
        for name in ("radius", "unit"):
            if not data.get(name):
                data[name] = str(SearchForm.base_fields[name].initial)
    form = SearchForm(data)
    search = queries.EventSearch()
    campaign = None
    if form.is_bound and form.is_valid():
        c = form.cleaned_data
        if c.get("campaign"):
            campaign = Campaign.objects.filter(slug=c["campaign"]).first()
        search = queries.EventSearch(
            postal_code=(c.get("postal_code") or "").strip(),
            radius=c.get("radius") or 25,
            unit=c.get("unit") or "mi",
            date_from=c.get("date_from"),
            date_to=c.get("date_to"),
            event_type=c.get("event_type") or "",
            campaign=campaign,
            mode=c.get("mode") or "all",
            sort=c.get("sort") or "",
        )
    elif not form.is_bound:
        person = person_of(request.user)
        home = person.postal_addresses.filter(primary=True).first() if person else None
        if home and home.postal_code:
            search.postal_code = home.postal_code
            form = SearchForm(initial={"postal_code": home.postal_code, "radius": 25})
    results, place = queries.event_search(search)
    error = ""
    if search.postal_code and place is None:
        error = (
            f"We don't know the postal code “{search.postal_code}”. Check it, or search "
            "without one to see all events."
        )
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    events = list(page.object_list)
    for event in events:
        distance = getattr(event, "distance_km", None)
        event.distance_display = (
            None if distance is None else (distance / 1.609344 if search.unit == "mi" else distance)
        )
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "events": events,
        "place": place,
        "search": search,
        "campaign": campaign,
        "error": error,
        "unit": "miles" if search.unit == "mi" else "km",
        "query": params.urlencode(),
        "day_of_action": queries.day_of_action(campaign) if campaign is not None else None,
        "tile_url": getattr(settings, "EVENT_MAP_TILE_URL", ""),
        "tile_attribution": getattr(settings, "EVENT_MAP_TILE_ATTRIBUTION", ""),
        "map_points": [
            {"lat": e.latitude, "lng": e.longitude, "title": e.title, "url": e.get_absolute_url()}
            for e in events
            if e.latitude is not None and e.is_in_person
        ],
    }
    template = "events/_results.html" if request.htmx else "events/list.html"
    return render(request, template, context)


def _viewable(request, uuid):
    event = queries.event_by_uuid(uuid)
    if event is None or not can_view(visit_actor(request), event):
        raise Http404("No such event.")
    return event


# RSVPs this browser session made itself (new ones only: see rsvp()), shown back to it.
SESSION_RSVPS = "events.rsvps_made"


def _visitor_rsvp(request, event, person):
    """The visitor's own RSVP to `event`: their proven person's (login or dashboard link), or one
    this session created."""
    rsvp = queries.rsvp_of(event, person)
    if rsvp is None:
        made = session_remembered(request, SESSION_RSVPS)
        if made:
            rsvp = (
                Rsvp.objects.filter(event=event, pk__in=made)
                .exclude(status=RsvpStatus.CANCELLED)
                .first()
            )
    return rsvp


def event_detail(request, uuid, form=None):
    event = _viewable(request, uuid)
    person = visitor_person(request)
    rsvp = _visitor_rsvp(request, event, person)
    if form is None:
        initial = {"guests": 0}
        if person is not None:
            email = person.email_addresses.order_by("-primary", "id").first()
            phone = person.phone_numbers.order_by("-primary", "id").first()
            initial.update(
                given_name=person.given_name,
                family_name=person.family_name,
                email=email.address if email else getattr(request.user, "email", ""),
                phone=phone.number if phone else "",
            )
        form = RsvpForm(initial=initial, event=event)
    return render(
        request,
        "events/detail.html",
        {
            "event": event,
            "form": form,
            "rsvp": rsvp,
            "can_manage": can_manage(visit_actor(request), event),
            "hosts": list(event.hosts.all()),
            # `rsvp` is the logged-in person's own: their private links are theirs to see.
            "rsvp_page": rsvp_page_path(rsvp) if rsvp else "",
            "rsvp_cancel": rsvp_cancel_path(rsvp) if rsvp else "",
            "rsvp_shifts": rsvp_shifts_path(rsvp) if rsvp else "",
            "rsvp_signups": rsvp_shift_signups(rsvp, event) if rsvp else [],
            "shifts": [s for s in event.shifts.all() if s.ends_at > timezone.now()],
        },
        status=400 if form.is_bound else 200,
    )


# RSVPs are written together (services.rsvp_record_together): the thread that writes a group
# holds the write slot for it, so the request does not hold one while its RSVP waits.
@require_POST
@write_slot(grouped=True)
def rsvp(request, uuid):
    event = _viewable(request, uuid)
    allowed, retry = hit(f"rsvp:{client_ip(request)}", limit=30, window=600)
    if not allowed:
        messages.error(
            request, f"Too many RSVPs from here. Try again in {retry // 60 + 1} minutes."
        )
        return redirect(event)
    form = RsvpForm(request.POST, event=event)
    if not form.is_valid():
        return event_detail(request, uuid, form=form)
    c = form.cleaned_data
    if c.get("website"):
        return redirect(event)  # a bot: say nothing, store nothing
    data = PersonData(
        email=c["email"],
        phone=c.get("phone") or "",
        given_name=c["given_name"],
        family_name=c.get("family_name") or "",
        postal_code=c.get("postal_code") or "",
    )
    try:
        result = rsvp_record_together(
            event=event,
            person_data=data,
            guests=c.get("guests") or 0,
            comment=c.get("comment") or "",
            referral=getattr(request, "referral", None),
            source="web",
            resend_links=True,
            shifts=form.shift_ids(),
            answers=form.answers(),
        )
    except ValidationError as exc:
        errors_to_form(form, exc)
        return event_detail(request, uuid, form=form)
    owner = visitor_person(request)
    if owner is not None and owner.pk == result.person.pk:
        return redirect(rsvp_page_path(result.rsvp))
    if result.created:
        # A new RSVP is this visitor's own doing: the event page shows it back to them. One the
        # address already had is not (whoever typed it may not own the address).
        session_remember(request, SESSION_RSVPS, result.rsvp.pk)
    # Whoever typed the address may not be its owner: the RSVP itself (new or one the address
    # already had) is reached only through the links emailed to that address.
    return redirect("events:rsvp_sent", event.uuid)


def rsvp_sent(request, uuid):
    """After an RSVP by someone not logged in as that person: "check your email"."""
    event = _viewable(request, uuid)
    return render(request, "events/rsvp_sent.html", {"event": event})


def _private(response):
    # The page's address carries the RSVP's signature: keep it out of other sites' logs.
    # "same-origin", not "no-referrer": with no referrer at all, browsers send "Origin: null"
    # with the page's own forms (cancel, change shifts), which the CSRF check refuses.
    response["Referrer-Policy"] = "same-origin"
    return response


def _link_refused(request):
    return _private(render(request, "events/rsvp_link_invalid.html", status=403))


def _own_rsvp(request, rsvp_uuid, *, login_is_enough: bool, dashboard_is_enough: bool = False):
    """The RSVP when the request carries its signed link (or, where allowed, when the RSVP's
    own person is logged in, or proved who they are with their dashboard link); None
    otherwise, whether or not the RSVP exists."""
    found = queries.rsvp_by_uuid(rsvp_uuid)
    if found is None:
        return None
    token = request.POST.get("t") or request.GET.get("t")
    if rsvp_token_valid(found, token):
        return found
    owner = visitor_person(request) if dashboard_is_enough else person_of(request.user)
    if login_is_enough and owner is not None and owner.pk == found.person_id:
        return found
    return None


@never_cache
def rsvp_done(request, rsvp_uuid):
    """Confirmation: what's next, instructions, join link, share kit, "bring a friend"."""
    found = _own_rsvp(request, rsvp_uuid, login_is_enough=True)
    if found is None:
        return _link_refused(request)
    event = found.event
    person = found.person
    return _private(
        render(
            request,
            "events/rsvp_done.html",
            {
                "rsvp": found,
                "event": event,
                "person": person,
                "is_going": found.status == RsvpStatus.ACCEPTED,
                "rsvp_cancel": rsvp_cancel_path(found),
                "rsvp_shifts": rsvp_shifts_path(found),
                "rsvp_signups": rsvp_shift_signups(found),
                # Shifts still to come, which the person may change to.
                "has_shifts": event.shifts.filter(ends_at__gt=timezone.now()).exists(),
            },
        )
    )


@never_cache
def rsvp_cancel_view(request, rsvp_uuid):
    """Cancel through the signed link from the RSVP's emails. Without a valid signature nothing
    changes and the page says how to get a working link."""
    found = _own_rsvp(request, rsvp_uuid, login_is_enough=False)
    if found is None:
        return _link_refused(request)
    if request.method == "POST":
        rsvp_cancel(rsvp=found, by_attendee=True)
        messages.success(request, "Your RSVP is cancelled. Thanks for letting the host know.")
        return redirect(found.event)
    return _private(
        render(
            request,
            "events/rsvp_cancel.html",
            {"rsvp": found, "event": found.event, "token": rsvp_token(found)},
        )
    )


@never_cache
@write_slot
def rsvp_shifts_view(request, rsvp_uuid):
    """Change one's shifts: through the RSVP's signed link (its page and emails link here), or
    as its person (logged in, or recognised by their dashboard link). Places are given and
    freed by `rsvp_shifts_change`, under the same locks as RSVPs and cancels."""
    found = _own_rsvp(request, rsvp_uuid, login_is_enough=True, dashboard_is_enough=True)
    if found is None:
        return _link_refused(request)
    event = queries.event_by_uuid(found.event.uuid)
    assert event is not None  # the RSVP's own
    found.event = event
    signups = rsvp_shift_signups(found, event)
    form = ShiftChangeForm(request.POST or None, rsvp=found, signups=signups)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                change = rsvp_shifts_change(rsvp=found, shifts=form.shift_ids(), actor=request.user)
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                if not change.changed:
                    messages.info(request, "Nothing changed: those are your shifts already.")
                elif change.rsvp.status == RsvpStatus.ACCEPTED:
                    messages.success(request, "Your shifts are changed. We've emailed you.")
                else:
                    messages.success(
                        request,
                        "Your shifts are changed. They're full right now, so you're on their "
                        "waitlists: we'll email you if a spot opens.",
                    )
                return _private(redirect(rsvp_page_path(change.rsvp)))
    return _private(
        render(
            request,
            "events/rsvp_shifts.html",
            {
                "rsvp": found,
                "event": event,
                "form": form,
                "token": rsvp_token(found),
                "rsvp_signups": signups,
                "rsvp_page": rsvp_page_path(found),
                "rsvp_cancel": rsvp_cancel_path(found),
            },
            status=status,
        )
    )


def event_ics(request, uuid):
    event = _viewable(request, uuid)
    person = visitor_person(request)
    own = queries.rsvp_of(event, person)
    going = own is not None or can_manage(visit_actor(request), event)
    # Someone going in shifts gets their shifts; anyone else the event as a whole.
    shifts = shifts_going(own, event) if own is not None else []
    body = calendar_bytes([event], name=event.title, with_join_url=going, shifts=shifts)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="event-{event.uuid}.ics"'
    return response


def campaign_feed(request, slug):
    campaign = get_object_or_404(Campaign, slug=slug)
    body = calendar_bytes(queries.feed_events(campaign=campaign), name=f"{campaign.name} events")
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")
