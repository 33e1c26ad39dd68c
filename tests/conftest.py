import uuid
from pathlib import Path

import pytest
from django.core.cache import cache

from tests.factories import OrganizerFactory, UserFactory

CHROMIUM = Path("/usr/bin/chromium")


def pytest_report_header(config):
    if not CHROMIUM.exists():
        return "BROWSER TESTS SKIPPED: no Chromium at /usr/bin/chromium (apt-get install chromium)"
    return f"browser tests: Chromium at {CHROMIUM}"


def pytest_collection_modifyitems(config, items):
    from django.db import connection

    postgres = connection.vendor == "postgresql"
    no_postgres = pytest.mark.skip(reason="needs PostgreSQL: run with DATABASE_URL=postgres://…")
    no_browser = pytest.mark.skip(reason="browser tests need Chromium at /usr/bin/chromium")
    for item in items:
        if "postgres" in item.keywords and not postgres:
            item.add_marker(no_postgres)
        if "browser" in item.keywords and not CHROMIUM.exists():
            item.add_marker(no_browser)


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": []}
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.MEDIA_ROOT = tmp_path / "media"
    # Sessions in the database whatever REDIS_URL says, so query-count tests count the same
    # statements on every backend.
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    if "redis" in settings.CACHES["default"]["BACKEND"].lower():
        # Redis is shared by parallel test processes: isolate each test by key prefix instead
        # of flushing the database under the others' feet.
        settings.CACHES = {
            "default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
        }
        yield
    else:
        cache.clear()
        yield
        cache.clear()


@pytest.fixture
def organizer(db):
    return OrganizerFactory()


@pytest.fixture
def supporter(db):
    return UserFactory()


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


@pytest.fixture
def supporter_client(client, supporter):
    client.force_login(supporter)
    return client
