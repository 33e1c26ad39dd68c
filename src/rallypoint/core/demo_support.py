"""Shared state for `rallypoint demo`: each app's demo.build(ctx) reads what earlier apps made."""

import secrets
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

DEMO_ORGANIZER_EMAIL = "organizer@example.org"


def demo_password() -> str:
    """A password for the demo organizer, made once per install and kept in var/."""
    path = settings.VAR_DIR / "demo_password"
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(9)
    path.write_text(password)
    path.chmod(0o600)
    return password


def demo_exists() -> bool:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(email__iexact=DEMO_ORGANIZER_EMAIL).exists()


@dataclass
class DemoContext:
    rng: Any
    people_count: int
    stdout: Any
    # Filled in as apps build: people ids, campaigns, …
    data: dict[str, Any] = field(default_factory=dict)

    def log(self, message: str) -> None:
        self.stdout.write(message)

    def print_login(self) -> None:
        self.stdout.write(f"Demo organizer login: {DEMO_ORGANIZER_EMAIL} / {demo_password()}")
