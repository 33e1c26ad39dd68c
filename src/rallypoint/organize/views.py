from django.shortcuts import render

from rallypoint.core.permissions import organizer_required
from rallypoint.mission.queries import home_campaigns

from .queries import organizer_overview


def home(request):
    return render(request, "core/home.html", {"campaigns": home_campaigns(limit=6)})


@organizer_required
def organize(request):
    return render(request, "core/organize.html", organizer_overview())
