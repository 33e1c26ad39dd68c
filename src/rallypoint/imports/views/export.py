from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone

from rallypoint.core.audit import log_action
from rallypoint.core.downloads import csv_response
from rallypoint.core.permissions import organizer_required
from rallypoint.segments.queries import segment_people

from ..export import export_rows
from ..forms import ExportForm


@organizer_required
def export_csv(request):
    """Everyone, or one segment, as a CSV download. Audited: it is the whole list leaving."""
    form = ExportForm(request.GET)
    if not form.is_valid():
        messages.error(request, "That segment doesn't exist any more: choose another one.")
        return redirect("imports:list")
    segment = form.cleaned_data["segment"]
    people = segment_people(segment) if segment else None
    log_action(
        "people.exported",
        obj=segment or request.user,
        actor=request.user,
        data={"segment": segment.slug if segment else None},
    )
    stamp = timezone.localdate().isoformat()
    name = f"people-{segment.slug if segment else 'everyone'}-{stamp}.csv"
    return csv_response(export_rows(people), name)
