"""Rallypoint settings. Everything that differs between installs comes from the environment."""

import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import dj_email_url

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("RALLYPOINT_VAR_DIR", Path.cwd() / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_rate(name: str, default: str) -> tuple[int, int]:
    """A rate limit written "COUNT/SECONDS", e.g. JOIN_RATE_LIMIT=30/600."""
    raw = os.environ.get(name, default)
    try:
        count, window = (int(part) for part in raw.split("/", 1))
    except ValueError:
        raise RuntimeError(f"{name} must look like COUNT/SECONDS, e.g. {default}")
    return count, max(window, 1)


def _secret_key() -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, not {raw!r}")
    if value < minimum:
        raise RuntimeError(f"{name} must be at least {minimum}, not {value}")
    return value


def _served_url() -> str:
    """http://HOST:PORT as `make run` and `rallypoint serve` listen (both read HOST and PORT),
    with a wildcard address replaced by loopback, which a browser on this machine can open."""
    host = os.environ.get("HOST", "").strip() or "127.0.0.1"
    port = os.environ.get("PORT", "").strip() or "8000"
    wildcard = {"0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1"}  # noqa: S104 - replaced
    host = wildcard.get(host, host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _proxy_ssl_header(raw: str) -> tuple[str, str] | None:
    """SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto (value "https") or "X-Forwarded-Ssl: on"."""
    if not raw.strip():
        return None
    name, _, value = raw.partition(":")
    name, value = name.strip(), value.strip() or "https"
    if not re.fullmatch(r"[A-Za-z0-9-]+", name):
        raise RuntimeError(
            "SECURE_PROXY_SSL_HEADER must be a header name such as X-Forwarded-Proto, "
            f"optionally followed by ': value' (default https), not {raw!r}"
        )
    return "HTTP_" + name.upper().replace("-", "_"), value


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
# The address emails, calendar files, share links and API documents use outside a request.
SITE_URL = (os.environ.get("SITE_URL", "").strip() or _served_url()).rstrip("/")
_site = urlsplit(SITE_URL)
if _site.scheme not in {"http", "https"} or not _site.hostname:
    raise RuntimeError(f"SITE_URL must look like https://act.example.org, not {SITE_URL!r}")
SITE_HTTPS = _site.scheme == "https"
# The site answers at its own address even when ALLOWED_HOSTS and CSRF_TRUSTED_ORIGINS are
# not set.
_site_host = f"[{_site.hostname}]" if ":" in _site.hostname else _site.hostname
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS",
    ",".join(dict.fromkeys(["localhost", "127.0.0.1", "[::1]", "testserver", _site_host])),
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", f"{_site.scheme}://{_site.netloc}")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "rallypoint.core",
    "rallypoint.accounts",
    "rallypoint.people",
    "rallypoint.segments",
    "rallypoint.imports",
    "rallypoint.ledger",
    "rallypoint.sharing",
    "rallypoint.mission",
    "rallypoint.actions",
    "rallypoint.events",
    "rallypoint.groups",
    "rallypoint.messaging",
    "rallypoint.insights",
    "rallypoint.api",
    "rallypoint.webhooks",
    "rallypoint.organize",
]

MIDDLEWARE = [
    "rallypoint.core.shared_pages.SharedPageMiddleware",  # first: see its docstring
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "rallypoint.sharing.middleware.ReferralMiddleware",
]

ROOT_URLCONF = "rallypoint.urls"
WSGI_APPLICATION = "rallypoint.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:after_login"
LOGOUT_REDIRECT_URL = "core:home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "rallypoint.core.context_processors.brand",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'rallypoint.sqlite3'}")
_db = dj_database_url.parse(DATABASE_URL)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        # WAL lets readers work while one writer writes; IMMEDIATE takes the write lock at
        # BEGIN so two writers queue on busy_timeout instead of failing with "database is locked".
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA cache_size=-64000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    # A new PostgreSQL connection per request costs several times the throughput.
    _db["CONN_MAX_AGE"] = int(os.environ.get("CONN_MAX_AGE", "600"))
    _db["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL binds the parameters itself and, once a statement has run 5 times on a
    # connection, keeps it prepared: the hot writes skip parse and plan (docs/performance.md).
    # DATABASE_SERVER_SIDE_BINDING=0 turns it off (e.g. behind PgBouncer in transaction mode
    # before 1.21, which cannot keep prepared statements).
    if os.environ.get("DATABASE_SERVER_SIDE_BINDING", "1") != "0":
        _db["OPTIONS"] = {
            **_db.get("OPTIONS", {}),
            "server_side_binding": True,
            "prepare_threshold": 5,
        }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, sessions, tasks -----------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

TASK_BACKEND = os.environ.get("TASK_BACKEND", "rq" if REDIS_URL else "db")
_task_backends = {
    "db": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "dummy": "django_tasks.backends.dummy.DummyBackend",
}
if TASK_BACKEND not in _task_backends:
    raise RuntimeError(f"TASK_BACKEND must be one of {', '.join(_task_backends)}")
TASKS = {"default": {"BACKEND": _task_backends[TASK_BACKEND], "QUEUES": ["default"]}}
if TASK_BACKEND == "rq":
    if not REDIS_URL:
        raise RuntimeError("TASK_BACKEND=rq needs REDIS_URL")
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600}}

# --- Email ----------------------------------------------------------------------------------
EMAIL_URL = os.environ.get("EMAIL_URL", "")
if EMAIL_URL:
    _email = dj_email_url.parse(EMAIL_URL)
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email["EMAIL_HOST"]
    EMAIL_PORT = _email["EMAIL_PORT"]
    EMAIL_HOST_USER = _email["EMAIL_HOST_USER"]
    EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"]
    EMAIL_USE_TLS = _email["EMAIL_USE_TLS"]
    EMAIL_USE_SSL = _email["EMAIL_USE_SSL"]
    EMAIL_FILE_PATH = _email.get("EMAIL_FILE_PATH") or str(VAR_DIR / "mail")
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Rallypoint <hello@rallypoint.localhost>")
# Seconds the SMTP backend waits on the mail server (connect, each reply) before giving up.
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "10"))

# --- Outbox (core.outbox) --------------------------------------------------------------------
# Events read per consumer per pass; how long a skipped id (a write still committing, or rolled
# back) is waited for; how long read events are kept before `outbox_process` prunes them.
OUTBOX_BATCH = int(os.environ.get("OUTBOX_BATCH", "500"))
OUTBOX_GAP_SECONDS = float(os.environ.get("OUTBOX_GAP_SECONDS", "3600"))
OUTBOX_KEEP_DAYS = float(os.environ.get("OUTBOX_KEEP_DAYS", "7"))

# --- Mailings (rallypoint.messaging; docs/email.md) ------------------------------------------
# The addresses a mailing may be sent from ("Name <address>" or a bare address), comma-separated;
# the first is the default. Verify each with your provider (SPF, DKIM, DMARC) before adding it.
MAILING_FROM_ADDRESSES = env_list("MAILING_FROM_ADDRESSES", DEFAULT_FROM_EMAIL)
# Send rate per sending route (the SMTP server or provider of EMAIL_URL / EMAIL_PROVIDER):
# messages per second and per hour; 0 = no limit.
MAILING_RATE_PER_SECOND = env_int("MAILING_RATE_PER_SECOND", 0)
MAILING_RATE_PER_HOUR = env_int("MAILING_RATE_PER_HOUR", 0)
# Deliveries a worker claims at once, and how long its claim keeps other workers away.
MAILING_BATCH = env_int("MAILING_BATCH", 200, minimum=1)
MAILING_LEASE_SECONDS = env_int("MAILING_LEASE_SECONDS", 300, minimum=30)
# Send tasks working on one mailing at once, each with its own connection to the route (more
# than 1 helps only with more than one worker).
MAILING_CONCURRENCY = env_int("MAILING_CONCURRENCY", 1, minimum=1)
# Send through an email provider's API with django-anymail instead of EMAIL_URL's SMTP server:
# amazon_ses, brevo, mailersend, mailgun, mailjet, mandrill, postal, postmark, resend,
# sendgrid, sparkpost, unisender_go… (anymail's backend module name). Its settings come from
# ANYMAIL_* variables, e.g. ANYMAIL_POSTMARK_SERVER_TOKEN, ANYMAIL_MAILGUN_API_KEY and
# ANYMAIL_MAILGUN_SENDER_DOMAIN (docs/email.md, "Sending routes").
EMAIL_PROVIDER = os.environ.get("EMAIL_PROVIDER", "").strip().lower()
if EMAIL_PROVIDER:
    if not re.fullmatch(r"[a-z0-9_]+", EMAIL_PROVIDER):
        raise RuntimeError(f"EMAIL_PROVIDER must name an anymail backend, not {EMAIL_PROVIDER!r}")
    EMAIL_BACKEND = f"anymail.backends.{EMAIL_PROVIDER}.EmailBackend"
    ANYMAIL = {
        name.removeprefix("ANYMAIL_"): value
        for name, value in os.environ.items()
        if name.startswith("ANYMAIL_") and value
    }
# Open and click tracking for every mailing (each mailing can also switch it off).
MAILING_TRACKING = env_bool("MAILING_TRACKING", True)
# The largest image an organizer may upload for a mailing, in bytes (services.images).
MAILING_IMAGE_MAX_BYTES = env_int("MAILING_IMAGE_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)
# Soft bounces in a row before an address is suppressed as bouncing.
MAILING_SOFT_BOUNCE_LIMIT = env_int("MAILING_SOFT_BOUNCE_LIMIT", 3, minimum=1)
# An open or a click this many seconds after sending (or sooner) is a security scanner's.
MAILING_MACHINE_SECONDS = env_int("MAILING_MACHINE_SECONDS", 5)
# Plain SMTP: the address bounces return to, e.g. bounces@mail.example.org (empty: none). Each
# message goes out with the return path bounces+<delivery>@mail.example.org (VERP), and the
# List-Unsubscribe mailto: is bounces+unsubscribe-<delivery>@mail.example.org.
MAILING_BOUNCE_ADDRESS = os.environ.get("MAILING_BOUNCE_ADDRESS", "").strip()
# The mailbox `rallypoint mail_bounces` reads: a maildir path, or
# imaps://user:password@host[:port]/FOLDER (docs/email.md, "Bounces and complaints").
MAILING_BOUNCE_MAILBOX = os.environ.get("MAILING_BOUNCE_MAILBOX", "").strip()

# --- Insights (rallypoint.insights; docs/insights.md) -----------------------------------------
# Audience counts fetched from public APIs (each off unless set; nothing is required).
INSIGHTS_FETCH_MASTODON = env_bool("INSIGHTS_FETCH_MASTODON", False)
INSIGHTS_FETCH_BLUESKY = env_bool("INSIGHTS_FETCH_BLUESKY", False)
INSIGHTS_BLUESKY_API = os.environ.get("INSIGHTS_BLUESKY_API", "https://public.api.bsky.app")
INSIGHTS_YOUTUBE_API_KEY = os.environ.get("INSIGHTS_YOUTUBE_API_KEY", "")
INSIGHTS_YOUTUBE_API = os.environ.get(
    "INSIGHTS_YOUTUBE_API", "https://www.googleapis.com/youtube/v3"
)
INSIGHTS_FETCH_TIMEOUT = float(os.environ.get("INSIGHTS_FETCH_TIMEOUT", "10"))
# The spread model is offered for steering only when its backtest error is below this.
INSIGHTS_BACKTEST_MAX_ERROR = float(os.environ.get("INSIGHTS_BACKTEST_MAX_ERROR", "0.3"))
# Up to this many people "whom to ask next" uses CELF; above, IMM (reverse reachable sets).
INSIGHTS_CELF_MAX_NODES = env_int("INSIGHTS_CELF_MAX_NODES", 5000, minimum=10)

# --- Brand ----------------------------------------------------------------------------------
RALLYPOINT_BRAND = {
    "name": os.environ.get("BRAND_NAME", "Rallypoint"),
    "tagline": os.environ.get("BRAND_TAGLINE", "People first. One mission. Every way in."),
    "primary": os.environ.get("BRAND_PRIMARY", "#1d4ed8"),
    "accent": os.environ.get("BRAND_ACCENT", "#e11d48"),
    "logo_url": os.environ.get("BRAND_LOGO_URL", ""),
}

# --- Static, i18n, security -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise serves from here once collectstatic has run
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "rallypoint.core.storage.StaticStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_MANIFEST_STRICT = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 3
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
# Pages are never framed, by us or by others; embeddable forms say so themselves
# (xframe_options_exempt).
X_FRAME_OPTIONS = "DENY"

# --- HTTPS (docs/deployment.md) -------------------------------------------------------------
# With an https SITE_URL, cookies are sent over HTTPS only and browsers are told to use HTTPS
# for a year (HSTS); each can be set on its own.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", SITE_HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", SITE_HTTPS)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if SITE_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Behind a proxy that terminates TLS and sets this header on every request (overwriting what
# the client sent): requests carrying it count as HTTPS, so absolute URLs, secure cookies,
# HSTS and the redirect below see the scheme the visitor used. Opt-in: a client that can
# reach the application directly could send it too.
SECURE_PROXY_SSL_HEADER = _proxy_ssl_header(os.environ.get("SECURE_PROXY_SSL_HEADER", ""))
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Reverse proxies in front of the application that append the client's address to
# X-Forwarded-For: rate limits count the address the outermost one saw (core/ratelimit.py).
# 0 counts the connection's peer. TRUST_X_FORWARDED_FOR=true, the older switch, means 1.
TRUSTED_PROXY_COUNT = env_int(
    "TRUSTED_PROXY_COUNT", 1 if env_bool("TRUST_X_FORWARDED_FOR", False) else 0
)

# Referral attribution: "first" touch within REFERRAL_COOKIE_DAYS wins, or the "last" one.
REFERRAL_ATTRIBUTION = os.environ.get("REFERRAL_ATTRIBUTION", "first")
REFERRAL_COOKIE_DAYS = int(os.environ.get("REFERRAL_COOKIE_DAYS", "30"))

# Per-IP limits on the public join form and on login attempts.
JOIN_RATE_LIMIT = env_rate("JOIN_RATE_LIMIT", "30/600")
LOGIN_RATE_LIMIT = env_rate("LOGIN_RATE_LIMIT", "20/300")
# Login attempts per typed email address (whether or not it has an account), from any address.
LOGIN_ACCOUNT_RATE_LIMIT = env_rate("LOGIN_ACCOUNT_RATE_LIMIT", "10/900")
# How long the signed "My Rallypoint" link in thank-you emails works.
DASHBOARD_LINK_DAYS = int(os.environ.get("DASHBOARD_LINK_DAYS", "30"))

# Public action forms: submissions per client IP per window ("count/seconds"; "0/1" = no limit),
# and how long an embedded form's signed token stays valid.
ACTION_RATE_LIMIT = os.environ.get("ACTION_RATE_LIMIT", "30/3600")
ACTION_EMBED_TOKEN_MAX_AGE = int(os.environ.get("ACTION_EMBED_TOKEN_MAX_AGE", str(2 * 3600)))
# Public writes (signatures, joins, RSVPs) running at once per web process; the rest wait
# their turn for up to WRITE_WAIT_SECONDS (then a 503), leaving threads free for pages.
WRITE_CONCURRENCY = int(os.environ.get("WRITE_CONCURRENCY", "2"))
WRITE_WAIT_SECONDS = float(os.environ.get("WRITE_WAIT_SECONDS", "30"))
# Signatures posted at the same moment are written together, this many at most, by one thread
# in one transaction (actions.services.submission_record_together); 1 writes each on its own.
SIGNATURE_BATCH_MAX = int(os.environ.get("SIGNATURE_BATCH_MAX", "16"))
# RSVPs posted at the same moment, likewise (events.services.rsvp_record_together): each
# event's capacity is locked once per group.
RSVP_BATCH_MAX = int(os.environ.get("RSVP_BATCH_MAX", "16"))

# --- OSDI API and webhooks (docs/api.md, docs/webhooks.md) ------------------------------------
# Also list ids as "action_network:<uuid>": clients written for Action Network read ids from it.
OSDI_ACTION_NETWORK_IDENTIFIERS = env_bool("OSDI_ACTION_NETWORK_IDENTIFIERS", True)
API_RATE_LIMIT = int(os.environ.get("API_RATE_LIMIT", "240"))  # requests per key per window
API_RATE_WINDOW = int(os.environ.get("API_RATE_WINDOW", "60"))  # seconds
API_HELPER_RATE_LIMIT = int(os.environ.get("API_HELPER_RATE_LIMIT", "30"))  # keyless, per IP
WEBHOOK_BATCH_SECONDS = int(os.environ.get("WEBHOOK_BATCH_SECONDS", "1"))
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", DEBUG)
# Requests made on a user's behalf (webhooks) never go to loopback, private, link-local or
# reserved addresses; these host names or CIDR ranges (comma-separated) are the exceptions.
OUTGOING_ALLOWED_HOSTS = env_list("OUTGOING_ALLOWED_HOSTS")

# --- Events and local groups ----------------------------------------------------------------
# A tile URL template (https://tiles.example.org/{z}/{x}/{y}.png) turns on the event map;
# without one the finder is a list with distances.
EVENT_MAP_TILE_URL = os.environ.get("EVENT_MAP_TILE_URL", "")
EVENT_MAP_TILE_ATTRIBUTION = os.environ.get("EVENT_MAP_TILE_ATTRIBUTION", "")
# Site default for supporters' events (organizers can set it per campaign on /events/organize/).
EVENTS_REQUIRE_APPROVAL = env_bool("EVENTS_REQUIRE_APPROVAL", False)
GROUPS_REQUIRE_APPROVAL = env_bool("GROUPS_REQUIRE_APPROVAL", True)
EVENTS_SWEEP_MINUTES = int(os.environ.get("EVENTS_SWEEP_MINUTES", "5"))
