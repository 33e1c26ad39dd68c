"""Settings overlay for bench/action_submit.py: the product settings plus a urlconf that adds
the baseline view. Never used by the product itself."""

import os

from rallypoint.settings import *  # noqa: F403

ROOT_URLCONF = "action_submit_urls"

if os.environ.get("BENCH_SERVER_SIDE_BINDING"):
    # Experiment: PostgreSQL binds parameters and prepares repeated statements itself.
    DATABASES["default"]["OPTIONS"] = {  # noqa: F405
        **DATABASES["default"].get("OPTIONS", {}),  # noqa: F405
        "server_side_binding": True,
        "prepare_threshold": int(os.environ["BENCH_SERVER_SIDE_BINDING"]),
    }
