"""Reads of the webhooks app."""

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from .models import Delivery, DeliveryStatus, Hook


def hooks_for_listing() -> QuerySet[Hook]:
    last = Delivery.objects.filter(hook=OuterRef("pk")).order_by("-created_at", "-id")
    return (
        Hook.objects.select_related("created_by")
        .annotate(
            waiting=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
            last_status=Subquery(last.values("status")[:1]),
            last_code=Subquery(last.values("response_code")[:1]),
            last_at=Subquery(last.values("created_at")[:1]),
        )
        .order_by("name", "id")
    )


def deliveries_for_hook(hook: Hook) -> QuerySet[Delivery]:
    return hook.deliveries.order_by("-created_at", "-id").defer("body")
