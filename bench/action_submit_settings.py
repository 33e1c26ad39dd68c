"""Settings overlay for bench/action_submit.py: the product settings plus a urlconf that adds
the baseline view. Never used by the product itself."""

from rallypoint.settings import *  # noqa: F403

ROOT_URLCONF = "action_submit_urls"
