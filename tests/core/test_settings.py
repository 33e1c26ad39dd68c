"""Settings read from the environment: SITE_URL, HTTPS, proxies. Each test starts a fresh
Python process, since settings are read once, when the process starts."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Variables that would leak the test runner's own configuration into the process under test.
CLEARED = (
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "SITE_URL",
    "HOST",
    "PORT",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DEBUG",
    "TRUST_X_FORWARDED_FOR",
    "TRUSTED_PROXY_COUNT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
)
READ = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({name: getattr(settings, name, None) for name in %r}))
"""


def _environment(tmp_path: Path, **env: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in CLEARED}
    return {
        **base,
        "DJANGO_SETTINGS_MODULE": "rallypoint.settings",
        "RALLYPOINT_VAR_DIR": str(tmp_path / "var"),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "TASK_BACKEND": "db",
        **env,
    }


def _settings(tmp_path: Path, names: list[str], **env: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", READ % (names,)],
        env=_environment(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _failure(tmp_path: Path, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", READ % (["SITE_URL"],)],
        env=_environment(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    return result.stderr.strip().splitlines()[-1]


def test_site_url_follows_the_port_make_run_serves(tmp_path):
    found = _settings(tmp_path, ["SITE_URL", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"], PORT="8123")
    assert found["SITE_URL"] == "http://127.0.0.1:8123"
    assert "127.0.0.1" in found["ALLOWED_HOSTS"]
    assert found["CSRF_TRUSTED_ORIGINS"] == ["http://127.0.0.1:8123"]


@pytest.mark.parametrize(
    ("env", "site_url"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"HOST": "0.0.0.0", "PORT": "8123"}, "http://127.0.0.1:8123"),
        ({"HOST": "::", "PORT": "8123"}, "http://[::1]:8123"),
        ({"HOST": "rally.lan", "PORT": "9000"}, "http://rally.lan:9000"),
        ({"PORT": "8123", "SITE_URL": "https://act.example.org/"}, "https://act.example.org"),
    ],
)
def test_site_url_defaults_to_host_and_port_unless_set(tmp_path, env, site_url):
    assert _settings(tmp_path, ["SITE_URL"], **env) == {"SITE_URL": site_url}


def test_site_url_without_a_scheme_stops_with_a_clear_message(tmp_path):
    assert _failure(tmp_path, SITE_URL="act.example.org") == (
        "RuntimeError: SITE_URL must look like https://act.example.org, not 'act.example.org'"
    )


HTTPS_NAMES = [
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
]


def test_https_site_url_makes_cookies_secure_and_turns_hsts_on(tmp_path):
    found = _settings(tmp_path, HTTPS_NAMES, SITE_URL="https://act.example.org")
    assert found == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
        "SECURE_PROXY_SSL_HEADER": None,
        "SECURE_SSL_REDIRECT": False,
        "ALLOWED_HOSTS": ["localhost", "127.0.0.1", "[::1]", "testserver", "act.example.org"],
        "CSRF_TRUSTED_ORIGINS": ["https://act.example.org"],
    }


def test_https_settings_each_come_from_the_environment(tmp_path):
    found = _settings(
        tmp_path,
        HTTPS_NAMES,
        SITE_URL="http://127.0.0.1:8000",
        SESSION_COOKIE_SECURE="true",
        CSRF_COOKIE_SECURE="1",
        SECURE_HSTS_SECONDS="600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="yes",
        SECURE_HSTS_PRELOAD="on",
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Ssl: on",
        SECURE_SSL_REDIRECT="true",
        ALLOWED_HOSTS="act.example.org",
        CSRF_TRUSTED_ORIGINS="https://act.example.org",
    )
    assert found == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_SSL", "on"],
        "SECURE_SSL_REDIRECT": True,
        "ALLOWED_HOSTS": ["act.example.org"],
        "CSRF_TRUSTED_ORIGINS": ["https://act.example.org"],
    }


def test_http_site_url_keeps_plain_cookies_and_no_hsts(tmp_path):
    found = _settings(tmp_path, HTTPS_NAMES[:3], SITE_URL="http://127.0.0.1:8000")
    assert found == {
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 0,
    }


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"SECURE_PROXY_SSL_HEADER": "X_Forwarded_Proto"},
            "RuntimeError: SECURE_PROXY_SSL_HEADER must be a header name such as "
            "X-Forwarded-Proto, optionally followed by ': value' (default https), "
            "not 'X_Forwarded_Proto'",
        ),
        (
            {"SECURE_HSTS_SECONDS": "a year"},
            "RuntimeError: SECURE_HSTS_SECONDS must be a whole number, not 'a year'",
        ),
        (
            {"TRUSTED_PROXY_COUNT": "-1"},
            "RuntimeError: TRUSTED_PROXY_COUNT must be at least 0, not -1",
        ),
    ],
)
def test_invalid_https_and_proxy_settings_stop_with_a_clear_message(tmp_path, env, message):
    assert _failure(tmp_path, **env) == message


@pytest.mark.parametrize(
    ("env", "count"),
    [
        ({}, 0),
        ({"TRUST_X_FORWARDED_FOR": "true"}, 1),
        ({"TRUST_X_FORWARDED_FOR": "false"}, 0),
        ({"TRUSTED_PROXY_COUNT": "2"}, 2),
        ({"TRUSTED_PROXY_COUNT": "2", "TRUST_X_FORWARDED_FOR": "true"}, 2),
    ],
)
def test_trusted_proxy_count_with_the_older_switch_meaning_one(tmp_path, env, count):
    assert _settings(tmp_path, ["TRUSTED_PROXY_COUNT"], **env) == {"TRUSTED_PROXY_COUNT": count}


ABSOLUTE_URL = """
import json, django
django.setup()
from django.test import RequestFactory
request = RequestFactory().get("/", HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="act.example.org")
print(json.dumps([request.is_secure(), request.build_absolute_uri("/api/v1")]))
"""


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto"},
            [True, "https://act.example.org/api/v1"],
        ),
        ({}, [False, "http://act.example.org/api/v1"]),
    ],
)
def test_absolute_urls_behind_a_tls_proxy_are_https_with_the_proxy_header(tmp_path, env, expected):
    result = subprocess.run(
        [sys.executable, "-c", ABSOLUTE_URL],
        env=_environment(tmp_path, ALLOWED_HOSTS="act.example.org", **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == expected


def _production_block() -> dict[str, str]:
    """The settings block docs/deployment.md gives for production, as written there."""
    text = (ROOT / "docs" / "deployment.md").read_text()
    section = text.split("## Production settings", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    env = {}
    for line in block.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, value = line.split("=", 1)
            env[name] = value
    return env


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path):
    env = _production_block()
    assert env["SECRET_KEY"] == "…"  # a placeholder: each install has its own
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    result = subprocess.run(
        [sys.executable, "-m", "rallypoint", "check", "--deploy", "--fail-level", "WARNING"],
        env=_environment(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert (result.returncode, result.stdout.strip()) == (
        0,
        "System check identified no issues (0 silenced).",
    ), result.stderr
