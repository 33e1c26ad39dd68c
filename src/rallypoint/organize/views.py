from django.http import HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static

from rallypoint.core.permissions import organizer_required
from rallypoint.mission.queries import home_campaigns

from .queries import organizer_overview


def home(request):
    return render(request, "core/home.html", {"campaigns": home_campaigns(limit=6)})


@organizer_required
def organize(request):
    return render(request, "core/organize.html", organizer_overview())


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: send them to the icon (its name
    is looked up now, so a later collectstatic's hashed name is the one given)."""
    return HttpResponsePermanentRedirect(static("rallypoint/favicon.svg"))
