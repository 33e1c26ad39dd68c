from django.apps import apps
from django.conf import settings
from django.urls import NoReverseMatch, reverse


def _organizer_nav() -> list[dict[str, str]]:
    """Each app lists its organizer pages in `AppConfig.organizer_nav = [(url_name, label)]`."""
    items = []
    for config in apps.get_app_configs():
        for url_name, label in getattr(config, "organizer_nav", ()):
            try:
                items.append({"url": reverse(url_name), "label": label})
            except NoReverseMatch:
                continue
    return items


def brand(request):
    context = {"brand": settings.RALLYPOINT_BRAND, "site_url": settings.SITE_URL}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and getattr(user, "is_organizer", False):
        context["organizer_nav"] = _organizer_nav()
    return context
