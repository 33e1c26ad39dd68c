"""Settings overlay for bench/mission_page.py: the product settings plus a urlconf that adds
the baseline view. Never used by the product itself."""

from rallypoint.settings import *  # noqa: F403

ROOT_URLCONF = "mission_page_urls"

# The page's HTML is what is measured; plain static storage needs no collectstatic step.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
