"""The demo organizer's login (the other apps' demo data names it as the actor)."""

from django.contrib.auth import get_user_model

from rallypoint.core.demo_support import DEMO_ORGANIZER_EMAIL, demo_password

from .models import Role


def build(ctx) -> None:
    User = get_user_model()
    organizer = User.objects.filter(email__iexact=DEMO_ORGANIZER_EMAIL).first()
    if organizer is None:
        organizer = User.objects.create_user(
            DEMO_ORGANIZER_EMAIL, demo_password(), role=Role.ORGANIZER
        )
    ctx.data["organizer"] = organizer
