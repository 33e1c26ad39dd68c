"""The people list's bulk actions: tag, untag, add to a segment, export. An interface over
people, segments and the export (so it lives with the other organizer pages that combine apps)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from rallypoint.core.audit import log_action
from rallypoint.core.downloads import csv_response
from rallypoint.core.permissions import organizer_required
from rallypoint.imports.export import export_rows
from rallypoint.people.forms import PeopleSearchForm
from rallypoint.people.models import Person
from rallypoint.people.queries import people_search
from rallypoint.people.services import tag_add_many, tag_remove_many
from rallypoint.segments.definition import MAX_PICKED
from rallypoint.segments.models import Segment
from rallypoint.segments.services import segment_from_people, segment_people_add

SEARCH_FIELDS = ("q", "tag", "postal_code", "region", "sort")


def _search(request) -> dict[str, str]:
    """The people list's search the selection was made in (sent back as search_<field>)."""
    return {
        name: request.POST.get(f"search_{name}", "")
        for name in SEARCH_FIELDS
        if request.POST.get(f"search_{name}")
    }


def _back(request):
    search = _search(request)
    url = reverse("people:list")
    return redirect(f"{url}?{urlencode(search)}" if search else url)


def _selected_ids(request) -> list[int]:
    """The ticked people, or everyone the search matches when "apply to all" is ticked."""
    if request.POST.get("scope") == "all":
        form = PeopleSearchForm(_search(request))
        filters = form.filters() if form.is_valid() else {}
        return list(people_search(**filters).order_by().values_list("pk", flat=True))
    ids = []
    for raw in request.POST.getlist("ids"):
        try:
            ids.append(int(raw))
        except ValueError:
            continue
    return list(Person.objects.filter(pk__in=set(ids)).values_list("pk", flat=True))


def _count(n: int) -> str:
    return f"{n:,} {'person' if n == 1 else 'people'}"


@organizer_required
@require_POST
def people_bulk(request):
    action = request.POST.get("action", "")
    ids = _selected_ids(request)
    if not ids:
        messages.error(request, "Tick the people first (or choose “apply to all”).")
        return _back(request)
    if action in ("tag", "untag"):
        name = request.POST.get("tag", "").strip()
        if not name:
            messages.error(request, "Type the tag to add or remove.")
            return _back(request)
        try:
            if action == "tag":
                done = tag_add_many(person_ids=ids, name=name, actor=request.user)
                messages.success(request, f"Tagged {_count(done)} “{name}”.")
            else:
                done = tag_remove_many(person_ids=ids, name=name, actor=request.user)
                messages.success(request, f"Took “{name}” off {_count(done)}.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return _back(request)
    if action == "export":
        log_action(
            "people.exported", obj=request.user, actor=request.user, data={"people": len(ids)}
        )
        stamp = timezone.localdate().isoformat()
        people = Person.objects.filter(pk__in=ids)
        return csv_response(export_rows(people), f"people-selection-{stamp}.csv")
    if action in ("segment", "segment_save"):
        return _to_segment(request, ids, save=action == "segment_save")
    messages.error(request, "Choose what to do with the people you ticked.")
    return _back(request)


def _to_segment(request, ids: list[int], *, save: bool):
    context = {
        "ids": ids,
        "count": len(ids),
        "too_many": len(ids) > MAX_PICKED,
        "max_picked": MAX_PICKED,
        "segments": Segment.objects.order_by("name"),
        "search": {f"search_{k}": v for k, v in _search(request).items()},
        "error": "",
        "name": request.POST.get("name", "").strip(),
    }
    if save and not context["too_many"]:
        target = request.POST.get("segment", "")
        try:
            if target == "new":
                made = segment_from_people(name=context["name"], person_ids=ids, actor=request.user)
                messages.success(request, f"Made “{made.name}” with {_count(len(ids))}.")
                return redirect("segments:detail", made.slug)
            chosen = Segment.objects.filter(slug=target).first()
            if chosen is None:
                raise ValidationError("Choose a segment, or make a new one.")
            added = segment_people_add(segment=chosen, person_ids=ids, actor=request.user)
            messages.success(request, f"Added {_count(added)} to “{chosen.name}”.")
            return redirect("segments:detail", chosen.slug)
        except ValidationError as exc:
            context["error"] = " ".join(exc.messages)
    status = 400 if save else 200
    return render(request, "core/people_segment.html", context, status=status)
