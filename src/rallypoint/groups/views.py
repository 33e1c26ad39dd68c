"""Group pages: find near me, the group page, leaders' tools, organizers' overview."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from rallypoint.core.concurrency import write_slot
from rallypoint.core.permissions import organizer_required
from rallypoint.events.calendar import calendar_bytes
from rallypoint.events.permissions import person_for, person_of
from rallypoint.events.queries import feed_events
from rallypoint.people.queries import session_remember, session_remembered, visitor_person
from rallypoint.people.services import PersonData

from . import queries
from .forms import AnnouncementForm, GroupForm, GroupSearchForm, JoinForm, MergeForm
from .models import GroupStatus, JoinPolicy, Membership, MemberStatus
from .permissions import can_lead, membership_for
from .services import (
    announcement_post,
    event_invite_group,
    group_approve,
    group_create,
    group_join,
    group_leave,
    group_merge,
    group_merge_preview,
    group_update,
    leader_appoint,
    membership_approve,
)

KM_PER_MILE = 1.609344


def _group_or_404(request, slug, *, lead: bool = False):
    group = queries.group_by_slug(slug)
    if group is None:
        raise Http404("No such group.")
    if lead and not can_lead(request.user, group):
        raise PermissionDenied("Only the group's leaders can do that.")
    if not group.is_active and not can_lead(request.user, group):
        if group.status == GroupStatus.MERGED and group.merged_into_id:
            return group
        raise Http404("No such group.")
    return group


def group_list(request):
    form = GroupSearchForm(request.GET or None)
    error, near = "", None
    if form.is_bound and form.is_valid() and form.cleaned_data.get("postal_code"):
        radius = form.cleaned_data.get("radius") or 25
        near, error = queries.groups_near(
            form.cleaned_data["postal_code"].strip(), radius * KM_PER_MILE
        )
    groups = near if near is not None else queries.active_groups().order_by("name")
    page = Paginator(groups, 20).get_page(request.GET.get("page"))
    for group in page.object_list:
        distance = getattr(group, "distance_km", None)
        group.distance_miles = None if distance is None else distance / KM_PER_MILE
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "groups/list.html",
        {
            "form": form,
            "page": page,
            "error": error,
            "query": params.urlencode(),
            "mine": queries.groups_for_person(person_of(request.user)),
        },
    )


@login_required
def group_create_view(request):
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = group_create(
                founder=person_for(request.user), actor=request.user, **form.service_fields()
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            if group.is_active:
                messages.success(request, "Your group is live. Invite your neighbours!")
            else:
                messages.success(
                    request,
                    "Thanks! An organizer will review your group shortly; "
                    "you can set it up in the meantime.",
                )
            return redirect("groups:manage", group.slug)
    return render(
        request,
        "groups/form.html",
        {"form": form, "creating": True},
        status=400 if form.is_bound and form.errors else 200,
    )


# Memberships this browser session made itself (see group_join_view), shown back to it.
SESSION_MEMBERSHIPS = "groups.memberships_made"


def _visitor_membership(request, group):
    """The visitor's own membership of `group`: their proven person's (login or dashboard link),
    or one this session created."""
    membership = membership_for(visitor_person(request), group)
    if membership is None:
        made = session_remembered(request, SESSION_MEMBERSHIPS)
        if made:
            membership = (
                Membership.objects.filter(group=group, pk__in=made)
                .exclude(status=MemberStatus.LEFT)
                .first()
            )
    return membership


def group_detail(request, slug, join_form=None):
    group = _group_or_404(request, slug)
    if group.status == GroupStatus.MERGED and group.merged_into_id:
        return redirect("groups:detail", group.merged_into.slug)
    membership = _visitor_membership(request, group)
    return render(
        request,
        "groups/detail.html",
        {
            "group": group,
            "membership": membership,
            "is_leader": can_lead(request.user, group),
            "events": queries.group_upcoming_events(group),
            "leaders": queries.group_leaders(group),
            "leaderboard": queries.group_leaderboard(group),
            "announcements": group.announcements.select_related("author")[:10],
            "join_form": join_form or JoinForm(),
            "visitor": visitor_person(request),
        },
        status=400 if join_form is not None else 200,
    )


def group_feed(request, slug):
    group = _group_or_404(request, slug)
    body = calendar_bytes(feed_events(group=group), name=f"{group.name} events")
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


@require_POST
@write_slot
def group_join_view(request, slug):
    group = _group_or_404(request, slug)
    person = person_for(request.user) if request.user.is_authenticated else visitor_person(request)
    data = None
    if person is None:
        form = JoinForm(request.POST)
        if not form.is_valid():
            # Shown again with what they typed and what to fix (a misspelt address included).
            return group_detail(request, slug, join_form=form)
        if form.cleaned_data.get("website"):
            return redirect("groups:detail", group.slug)  # a bot: say nothing, store nothing
        c = form.cleaned_data
        data = PersonData(
            given_name=c["given_name"],
            family_name=c.get("family_name", ""),
            email=c["email"],
            source=f"group {group.slug}",
        )
    try:
        joined = group_join(
            group=group,
            person=person,
            person_data=data,
            referral=getattr(request, "referral", None),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        membership = joined.membership
        if person is None and joined.created:
            # A new membership is this visitor's own doing: the group page shows it back to
            # them. One the address already had is not (whoever typed it may not own it).
            session_remember(request, SESSION_MEMBERSHIPS, membership.pk)
        # A visitor who typed an address hears what the group's policy says, not the status of
        # that address's membership (which would tell a stranger whether its owner is a member).
        joined = (
            membership.status == MemberStatus.ACTIVE
            if person is not None
            else group.join_policy == JoinPolicy.OPEN
        )
        if joined:
            messages.success(request, f"Welcome to {group.name}!")
        else:
            messages.success(request, "Thanks! A leader will confirm your membership soon.")
    return redirect("groups:detail", group.slug)


@require_POST
def group_leave_view(request, slug):
    """Leave: a member by login or dashboard link, or the session that joined (the one who
    joined may undo it). Anyone else is asked to log in."""
    group = _group_or_404(request, slug)
    membership = _visitor_membership(request, group)
    if membership is None:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        messages.info(request, f"You're not a member of {group.name}.")
        return redirect("groups:detail", group.slug)
    try:
        group_leave(group=group, person=membership.person)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"You left {group.name}.")
    return redirect("groups:detail", group.slug)


@login_required
def group_manage(request, slug):
    group = _group_or_404(request, slug, lead=True)
    return render(
        request,
        "groups/manage.html",
        {
            "group": group,
            "members": queries.group_members(group),
            "pending": queries.group_members(group, MemberStatus.PENDING),
            "events": queries.group_upcoming_events(group),
            "form": AnnouncementForm(),
        },
    )


@login_required
def group_edit(request, slug):
    group = _group_or_404(request, slug, lead=True)
    form = GroupForm(request.POST or None, initial=GroupForm.initial_for(group))
    if request.method == "POST" and form.is_valid():
        try:
            group_update(group=group, actor=request.user, **form.service_fields())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Saved.")
            return redirect("groups:manage", group.slug)
    return render(
        request,
        "groups/form.html",
        {"form": form, "group": group},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
def group_announce(request, slug):
    group = _group_or_404(request, slug)
    form = AnnouncementForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                post = announcement_post(
                    group=group,
                    actor=request.user,
                    author=person_for(request.user),
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                messages.success(request, f"Posted and emailed to {post.recipients} members.")
                return redirect("groups:detail", group.slug)
        invite = request.POST.get("invite_event")
        if invite:
            return _invite(request, group, invite)
    elif not can_lead(request.user, group):
        raise PermissionDenied("Only the group's leaders can post announcements.")
    return render(
        request,
        "groups/announce.html",
        {"group": group, "form": form},
        status=400 if form.is_bound else 200,
    )


def _invite(request, group, event_uuid):
    event = group.events.filter(uuid=event_uuid).first()
    if event is None:
        raise Http404("No such event for this group.")
    count = event_invite_group(event=event, actor=request.user)
    messages.success(request, f"Invited {count} members to {event.title}.")
    return redirect("groups:manage", group.slug)


@login_required
@require_POST
def member_action(request, slug, membership_id):
    group = _group_or_404(request, slug, lead=True)
    membership = (
        Membership.objects.select_related("person", "group")
        .filter(pk=membership_id, group=group)
        .first()
    )
    if membership is None:
        raise Http404("No such member.")
    action = request.POST.get("action")
    try:
        if action in ("approve", "decline"):
            membership_approve(
                membership=membership, actor=request.user, approve=action == "approve"
            )
        elif action in ("make_leader", "remove_leader"):
            leader_appoint(
                group=group,
                person=membership.person,
                actor=request.user,
                leader=action == "make_leader",
            )
        else:
            messages.error(request, "Unknown action.")
            return redirect("groups:manage", group.slug)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Done.")
    return redirect("groups:manage", group.slug)


@organizer_required
def organize_groups(request):
    status = request.GET.get("status", "")
    if status not in GroupStatus.values:
        status = ""
    q = request.GET.get("q", "").strip()
    page = Paginator(queries.organizer_groups(status=status, q=q), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "groups/organize.html",
        {
            "page": page,
            "status": status,
            "q": q,
            "statuses": GroupStatus.choices,
            "merge_targets": list(
                queries.active_groups().order_by("name").only("pk", "slug", "name")
            ),
            "pending": queries.organizer_groups(status=GroupStatus.PENDING).count(),
        },
    )


@organizer_required
@require_POST
def organize_review(request, slug):
    group = queries.group_by_slug(slug)
    if group is None:
        raise Http404("No such group.")
    approve = request.POST.get("decision") == "approve"
    group_approve(group=group, actor=request.user, approve=approve)
    messages.success(request, f"{group.name} {'approved' if approve else 'not approved'}.")
    return redirect("groups:organize")


@organizer_required
def organize_merge(request, slug):
    """GET: choose the group to keep and see what the merge will do. POST with `confirm`
    (and `confirm_differences` when the groups differ in status or region): merge."""
    group = queries.group_by_slug(slug)
    if group is None:
        raise Http404("No such group.")
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = MergeForm(data)
    context = {
        "group": group,
        "form": form,
        "preview": None,
        "error": "",
        "targets": list(
            queries.active_groups().exclude(pk=group.pk).order_by("name").only("slug", "name")
        ),
    }
    if not form.is_bound:
        return render(request, "groups/merge.html", context)
    if not form.is_valid():
        context["error"] = " ".join(form.errors.get("target", ["Choose a group to merge into."]))
        return render(request, "groups/merge.html", context, status=400)
    target = form.cleaned_data["target"]
    preview = group_merge_preview(source=group, target=target)
    context.update(preview=preview, target=target, error=preview.refusal)
    if preview.refusal:
        return render(request, "groups/merge.html", context, status=400)
    if request.method != "POST":
        return render(request, "groups/merge.html", context)
    if not form.cleaned_data["confirm"]:
        context["error"] = "Tick “Yes, merge these groups” to confirm. Nothing was changed."
        return render(request, "groups/merge.html", context, status=400)
    try:
        group_merge(
            source=group,
            target=target,
            actor=request.user,
            confirm_differences=form.cleaned_data["confirm_differences"],
        )
    except ValidationError as exc:
        context["error"] = " ".join(exc.messages)
        return render(request, "groups/merge.html", context, status=400)
    messages.success(request, f"{group.name} was merged into {target.name}.")
    return redirect("groups:organize")
