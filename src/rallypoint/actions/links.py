"""Absolute links an action hands out: the personal share link and the supporter's dashboard."""

from django.conf import settings
from django.urls import reverse
from django.utils.http import urlencode

from rallypoint.ledger.dashboard import dashboard_link
from rallypoint.people.models import Person

from .models import Action


def action_url(action: Action) -> str:
    return f"{settings.SITE_URL}{reverse('actions:detail', args=[action.slug])}"


def action_share_url(action: Action, person: Person, channel: str = "") -> str:
    """The action's page carrying the person's share code (and the channel it was shared on)."""
    params = {"ref": person.share_code}
    if channel:
        params["ch"] = channel
    return f"{action_url(action)}?{urlencode(params)}"


def dashboard_url(person: Person) -> str:
    """The signed link to the person's own "My Rallypoint" dashboard."""
    return dashboard_link(person)
