"""Segment pages: the list, the builder with its live count, a segment's members."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from rallypoint.core.permissions import organizer_required
from rallypoint.people.queries import people_with_contacts

from .definition import definition_clean
from .forms import SegmentForm, initial_from_definition
from .models import Segment
from .queries import (
    definition_people,
    definition_summary,
    segment_people,
    segments_list,
    segments_using,
)
from .services import segment_create, segment_delete, segment_update

PREVIEW_ROWS = 10


def _preview(definition: dict) -> dict:
    people = definition_people(definition)
    rows = people_with_contacts().filter(pk__in=people.values("pk")).order_by("-created_at", "-pk")
    return {"count": people.count(), "people": list(rows[:PREVIEW_ROWS])}


def _checked(form: SegmentForm) -> dict | None:
    """The form's definition after definition_clean, or None with errors added to the form."""
    if not form.is_valid():
        return None
    try:
        return definition_clean(
            form.definition(), segment_id=form.segment.pk if form.segment else None
        )
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, message)
        return None


@organizer_required
def segment_list(request):
    page = Paginator(segments_list(), 50).get_page(request.GET.get("page"))
    return render(request, "segments/list.html", {"page": page})


def _builder(request, segment: Segment | None):
    initial = initial_from_definition(segment) if segment else {}
    form = SegmentForm(request.POST or None, segment=segment, initial=initial)
    form.fields["name"].required = "preview" not in request.POST  # counting needs no name
    preview = None
    if request.method == "POST":
        definition = _checked(form)
        if definition is not None and "preview" in request.POST:
            preview = _preview(definition)
        elif definition is not None:
            try:
                if segment is None:
                    segment = segment_create(
                        name=form.cleaned_data["name"],
                        description=form.cleaned_data["description"],
                        definition=definition,
                        actor=request.user,
                    )
                else:
                    segment_update(
                        segment=segment,
                        name=form.cleaned_data["name"],
                        description=form.cleaned_data["description"],
                        definition=definition,
                        actor=request.user,
                    )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, f"Segment “{segment.name}” saved.")
                return redirect("segments:detail", slug=segment.slug)
    elif segment is not None:
        preview = _preview(segment.definition)
    status = 400 if request.method == "POST" and form.errors else 200
    return render(
        request,
        "segments/builder.html",
        {"form": form, "segment": segment, "preview": preview},
        status=status,
    )


@organizer_required
def segment_new(request):
    return _builder(request, None)


@organizer_required
def segment_edit(request, slug):
    return _builder(request, get_object_or_404(Segment, slug=slug))


@organizer_required
@require_POST
def segment_preview(request):
    """The live count under the builder (htmx): the count and first rows, or what's wrong."""
    segment = None
    if request.POST.get("segment"):
        segment = Segment.objects.filter(slug=request.POST["segment"]).first()
    form = SegmentForm(request.POST, segment=segment)
    form.fields["name"].required = False
    definition = _checked(form)
    context = {"form": form, "preview": _preview(definition) if definition is not None else None}
    return render(request, "segments/_preview.html", context)


@organizer_required
def segment_detail(request, slug):
    segment = get_object_or_404(Segment.objects.select_related("created_by"), slug=slug)
    members = segment_people(segment)
    rows = people_with_contacts().filter(pk__in=members.values("pk")).order_by("-created_at", "-pk")
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "segments/detail.html",
        {"segment": segment, "page": page, "summary": definition_summary(segment.definition)},
    )


@organizer_required
def segment_count_partial(request, slug):
    segment = get_object_or_404(Segment, slug=slug)
    return render(
        request,
        "segments/_count.html",
        {"segment": segment, "count": segment_people(segment).count()},
    )


@organizer_required
def segment_delete_view(request, slug):
    segment = get_object_or_404(Segment, slug=slug)
    if request.method == "POST":
        try:
            segment_delete(segment=segment, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("segments:detail", slug=segment.slug)
        messages.success(request, f"Segment “{segment.name}” deleted. No one was removed.")
        return redirect("segments:list")
    return render(
        request,
        "segments/delete.html",
        {"segment": segment, "used_by": segments_using(segment)},
    )
