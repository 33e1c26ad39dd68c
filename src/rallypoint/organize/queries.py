"""The organizer overview: what moved and what waits for a decision, in a handful of queries."""

from typing import Any

from django.utils import timezone

from rallypoint.events.models import Approval, Event
from rallypoint.groups.models import Group, GroupStatus
from rallypoint.imports.models import ImportJob
from rallypoint.ledger.models import Activity
from rallypoint.mission.queries import home_campaigns
from rallypoint.people.queries import people_stats


def organizer_overview() -> dict[str, Any]:
    now = timezone.now()
    return {
        "stats": people_stats(),
        "campaigns": home_campaigns(limit=10),
        "upcoming_events": Event.objects.filter(
            starts_at__gte=now, approval=Approval.APPROVED
        ).count(),
        "pending_events": Event.objects.filter(approval=Approval.PENDING, ends_at__gte=now).count(),
        "pending_groups": Group.objects.filter(status=GroupStatus.PENDING).count(),
        "recent_imports": list(ImportJob.objects.order_by("-created_at")[:3]),
        "recent_acts": list(
            Activity.objects.select_related("person", "campaign").order_by("-created_at", "-id")[
                :12
            ]
        ),
    }
