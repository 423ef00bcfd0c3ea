"""Settings of the platform, read from the environment.

Defaults run everything on one machine: SQLite, a Huey queue on SQLite, local-memory cache,
files in ./var. Production sets DATABASE_URL, REDIS_URL, EMAIL_* variables and
a real SECRET_KEY; nothing else changes.
"""

import importlib.util
import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TSUR_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
TESTING = env_bool("TSUR_TESTING") or "pytest" in sys.modules
INSECURE_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", INSECURE_KEY)
if not DEBUG and SECRET_KEY == INSECURE_KEY and not TESTING:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
        "(scripts/up and scripts/test write one into .env), or DEBUG=1 for development."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "huey.contrib.djhuey",
    "django_htmx",
    "tsur.core",
    "tsur.appeals",
    "tsur.nlp",
    "tsur.open311",
    "tsur.dispatch",
    "tsur.notify",
    "tsur.analytics",
    "tsur.social",
    "tsur.web",
    "tsur.demo",  # fills the apps above with a demo region: listed last, depends on them all
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "tsur.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # innermost: sees a view's database error first and answers 503 instead of 500
    "tsur.core.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "tsur.web.context.places",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'tsur.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while the worker writes; IMMEDIATE avoids upgrade deadlocks.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests get a file, not the shared in-memory database: threads (the MQTT consumer) then wait
    # for locks as in production instead of failing with «table is locked».
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Server-side binding lets psycopg prepare the statements every request repeats (planning the
    # routing and insert statements once per connection instead of once per appeal). Django turns
    # psycopg's prepared statements off (for transaction-pooling proxies); here they are on from a
    # statement's second use. Behind PgBouncer in transaction mode set DB_PREPARE_THRESHOLD empty.
    threshold = os.environ.get("DB_PREPARE_THRESHOLD", "2")
    DATABASES["default"]["OPTIONS"] = {
        "server_side_binding": env_bool("DB_SERVER_SIDE_BINDING", True),
        "prepare_threshold": int(threshold) if threshold else None,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (INCLUDE) serve PostgreSQL's index-only scans; SQLite keeps the same indexes on
# their key columns, which is all it can do and enough for one machine.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
AUTH_USER_MODEL = "core.User"

REDIS_URL = os.environ.get("REDIS_URL", "")
# Controller telemetry broker (`tsur dispatch_consume`); Mosquitto on this machine by default.
MQTT_URL = os.environ.get("MQTT_URL", "mqtt://127.0.0.1:1883")
# Messenger bot for notifications of services (a Telegram-compatible Bot API); the token is a secret.
# Map tiles for the dispatcher's screen from the region's own tile server, e.g.
# "https://tiles.region.example/{z}/{x}/{y}.png"; without one the map draws the known buildings.
# Where people reach this site: links in e-mails that are not answers to a request (the weekly report)
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
MAP_TILES_URL = os.environ.get("MAP_TILES_URL", "")
MAP_TILES_ATTRIBUTION = os.environ.get("MAP_TILES_ATTRIBUTION", "")
TELEGRAM_BOT_TOKEN = os.environ.get("TELEGRAM_BOT_TOKEN", "")
TELEGRAM_API_URL = os.environ.get("TELEGRAM_API_URL", "https://api.telegram.org")
# Days of controller readings kept (older ones are dropped: whole partitions on PostgreSQL).
TELEMETRY_RETENTION_DAYS = int(os.environ.get("TELEMETRY_RETENTION_DAYS", "90"))
if REDIS_URL:
    # a Redis that hangs instead of refusing must not hang every request that counts a rate limit
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

HUEY_IMMEDIATE = env_bool("HUEY_IMMEDIATE", TESTING)
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.PriorityRedisHuey",
        "name": os.environ.get("HUEY_NAME", "tsur"),
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": int(os.environ.get("HUEY_WORKERS", "2")), "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "tsur.core.queue.SqliteHuey",
        "name": "tsur",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": int(os.environ.get("HUEY_WORKERS", "2")), "worker_type": "thread"},
    }

# Django's password check, refused after too many failures per account or address (tsur.core.signin)
AUTHENTICATION_BACKENDS = ["tsur.core.signin.LockoutBackend"]

# Argon2 (memory-hard) for new and changed passwords; the others only verify older hashes, which
# are rehashed with Argon2 at their owner's next sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# The region's language, whatever a browser asks for: no LocaleMiddleware negotiates it (a clerk's
# English browser must not turn the register's pages and messages English).
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "ru")
LANGUAGES = [("ru", "Русский"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Moscow")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Leaflet's files as the django-leaflet package ships them (its app itself needs GDAL: not installed)
STATICFILES_DIRS = [Path(importlib.util.find_spec("leaflet").submodule_search_locations[0]) / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if TESTING:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# The embedded default keeps outgoing mail as files in var/mail, one per message, for the operator to read.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.locmem.EmailBackend"
    if TESTING
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "cur@localhost")

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
# Cookies go over HTTPS only, unless DEBUG or SECURE_COOKIES=0 (scripts/up's demo over plain HTTP).
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
X_FRAME_OPTIONS = "DENY"
# Browsers that reached the platform over HTTPS keep to it (sent on HTTPS responses only).
SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", "0" if DEBUG else str(365 * 24 * 3600)))
if env_bool("BEHIND_TLS_PROXY"):
    # The proxy in front terminates TLS and says so in X-Forwarded-Proto (it must overwrite the
    # client's own); without this Django sees plain HTTP and HSTS is never sent.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (tsur.core.middleware): scripts only from this site's files, no inline
# script; images also from the region's tile server.
# (a server's subdomains, «{s}.tiles…», as a wildcard)
_TILES_ORIGIN = "/".join(MAP_TILES_URL.replace("{s}", "*").split("/")[:3]) if "://" in MAP_TILES_URL else ""
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": f"'self' data: {_TILES_ORIGIN}".strip(),
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# Pages of third-party code that sets inline styles (the admin's change lists, DRF's browsable API,
# Swagger UI, Redoc) or runs workers from blob: (Redoc); their scripts are still only this site's files.
CONTENT_SECURITY_POLICY_RELAXED = {
    "paths": ("/admin/", "/api/"),
    "style-src": "'self' 'unsafe-inline'",
    "worker-src": "'self' blob:",
}
# Reported by the browser, not enforced: for trying a stricter policy on a running platform.
CONTENT_SECURITY_POLICY_REPORT_ONLY = env_bool("CSP_REPORT_ONLY")

# Messages live in the session, not in a cookie: one of them carries a new Open311 client's key.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tsur.core.api.authentication.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "tsur.core.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["tsur.core.api.filters.FilterBackend"],
    # JSON too deep or malformed is a 400 with a message, never a RecursionError's 500
    "DEFAULT_PARSER_CLASSES": [
        "tsur.core.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "public_intake": os.environ.get("PUBLIC_INTAKE_RATE", "20/min"),
        "public_lookup": os.environ.get("PUBLIC_LOOKUP_RATE", "60/min"),
        "staff_suggest": os.environ.get("STAFF_SUGGEST_RATE", "600/min"),
        "login": os.environ.get("LOGIN_RATE", "10/min"),
    },
    "EXCEPTION_HANDLER": "tsur.core.api.exceptions.exception_handler",
    # Clients are told apart by REMOTE_ADDR unless the platform sits behind that many trusted proxies;
    # otherwise a client could pick its own X-Forwarded-For and escape every rate limit.
    "NUM_PROXIES": int(os.environ.get("NUM_PROXIES", "0")),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ЦУР: API платформы центра управления регионом",
    "DESCRIPTION": "Реестр обращений, маршрутизация, сроки, справочники, книга жалоб.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TerritoryKindEnum": "tsur.core.choices.TerritoryKind",
        "OrganisationKindEnum": "tsur.core.choices.OrganisationKind",
        "PlaceKindEnum": "tsur.core.choices.PlaceKind",
        "AppealStatusEnum": "tsur.appeals.choices.Status",
        "EventKindEnum": "tsur.appeals.choices.EventKind",
        "DeadlineUnitEnum": "tsur.appeals.choices.DeadlineUnit",
    },
}

# Domain settings
TSUR = {
    "REGION_NAME": os.environ.get("TSUR_REGION_NAME", "Демонстрационный регион"),
    # Appeals answered and left without the citizen's reaction close after this many days.
    "AUTOCLOSE_DAYS": int(os.environ.get("TSUR_AUTOCLOSE_DAYS", "10")),
    # A closed appeal may be reopened by its author within this many days.
    "REOPEN_WINDOW_DAYS": int(os.environ.get("TSUR_REOPEN_WINDOW_DAYS", "30")),
    # Share of the resolution period left when «срок истекает» is raised.
    "DEADLINE_WARNING_SHARE": float(os.environ.get("TSUR_DEADLINE_WARNING_SHARE", "0.2")),
    # The composite index of the ratings (tsur.analytics.ratings): weight of each component.
    "RATING_WEIGHTS": os.environ.get(
        "TSUR_RATING_WEIGHTS", "on_time=0.4,overdue=0.2,reopen=0.15,satisfaction=0.15,redirect=0.1"
    ),
    # A group with fewer appeals in the period is listed but not ranked.
    "RATING_MIN_APPEALS": int(os.environ.get("TSUR_RATING_MIN_APPEALS", "10")),
    "PHOTO_MAX_BYTES": int(os.environ.get("TSUR_PHOTO_MAX_BYTES", str(10 * 1024 * 1024))),
    "PHOTO_MAX_COUNT": 10,
    # a resident attaches up to this many on the portal, leaving room in the appeal's PHOTO_MAX_COUNT
    # for the executor's photos of the work done
    "PORTAL_PHOTO_MAX_COUNT": 5,
    "TEXT_MAX_CHARS": 4000,
    "DEMO_DATA": os.environ.get(
        "TSUR_DEMO_DATA", str(BASE_DIR.parent / "shared" / "data" / "spb_appeals.csv.gz")
    ),
    # The text model the register uses (built by `tsur nlp_default` / `tsur nlp_train`); empty: none.
    "NLP_MODEL": os.environ.get("TSUR_NLP_MODEL", str(VAR_DIR / "models" / "default")),
    # An appeal is routed with no person's step only when the organisation chosen is right with at
    # least this probability (tsur.appeals.route_confidence); otherwise an operator decides.
    "AUTO_ROUTE_PRECISION": float(os.environ.get("TSUR_AUTO_ROUTE_PRECISION", "0.95")),
    # Near-duplicates: same problem within this distance and this many days.
    "DUPLICATE_RADIUS_M": int(os.environ.get("TSUR_DUPLICATE_RADIUS_M", "150")),
    "DUPLICATE_WINDOW_DAYS": int(os.environ.get("TSUR_DUPLICATE_WINDOW_DAYS", "30")),
    # Password guessing: after this many failed sign-ins within the window, an account (from any
    # address) or an address (for any account) is refused, even with the right password, until the
    # window passes; the count is kept in the database and shared by every process.
    "SIGNIN_FAILURES_PER_ACCOUNT": int(os.environ.get("TSUR_SIGNIN_FAILURES_PER_ACCOUNT", "5")),
    "SIGNIN_FAILURES_PER_ADDRESS": int(os.environ.get("TSUR_SIGNIN_FAILURES_PER_ADDRESS", "30")),
    "SIGNIN_WINDOW_MINUTES": int(os.environ.get("TSUR_SIGNIN_WINDOW_MINUTES", "15")),
    # Residents sign in with a one-time code sent by e-mail (tsur.core.codes): it lives this many
    # minutes and takes this many wrong tries; an e-mail address, and a client's address, may ask for
    # this many codes an hour.
    "SIGNIN_CODE_MINUTES": int(os.environ.get("TSUR_SIGNIN_CODE_MINUTES", "10")),
    "SIGNIN_CODE_ATTEMPTS": int(os.environ.get("TSUR_SIGNIN_CODE_ATTEMPTS", "5")),
    "SIGNIN_CODES_PER_EMAIL": int(os.environ.get("TSUR_SIGNIN_CODES_PER_EMAIL", "5")),
    "SIGNIN_CODES_PER_ADDRESS": int(os.environ.get("TSUR_SIGNIN_CODES_PER_ADDRESS", "20")),
    # Wrong keys of the author's private link (/a/<number>/<key>/) one client's address may try in
    # SIGNIN_WINDOW_MINUTES before every key check from it is refused for the rest of the window.
    "ACCESS_KEY_FAILURES_PER_ADDRESS": int(os.environ.get("TSUR_ACCESS_KEY_FAILURES_PER_ADDRESS", "20")),
    # Links and webhooks are reached only on the public internet (tsur.core.outbound); networks
    # listed here (CIDR, comma-separated) are allowed as well — a receiver inside the region's own
    # network. Empty by default; the tests allow 127.0.0.1 for their local HTTP server.
    "ALLOWED_PRIVATE_NETWORKS": env_list("TSUR_ALLOWED_PRIVATE_NETWORKS"),
    # Days a finished appeal keeps its citizen's name, contacts and flat before the daily job
    # anonymises it (152-ФЗ: no longer than the purpose needs); five years, as the archive keeps
    # citizens' appeals. 0: kept until erased on request.
    "PERSONAL_DATA_RETENTION_DAYS": int(os.environ.get("TSUR_PERSONAL_DATA_RETENTION_DAYS", "1825")),
}

# Social monitoring (tsur.social, docs/social.md): every network's base URL is a setting, so the tests
# and the demo run against the project's local fakes; tokens are read from the variables each source
# names, never from here.
SOCIAL = {
    "BASE_URLS": {
        "vk": os.environ.get("TSUR_SOCIAL_VK_URL", "https://api.vk.com"),
        "telegram": os.environ.get("TSUR_SOCIAL_TELEGRAM_URL", "https://api.telegram.org"),
        "ok": os.environ.get("TSUR_SOCIAL_OK_URL", "https://api.ok.ru"),
    },
    "TIMEOUT_SECONDS": float(os.environ.get("TSUR_SOCIAL_TIMEOUT_SECONDS", "10")),
    # retries of one request on a rate limit or a network error, waiting BACKOFF · 2^n seconds
    "RETRIES": int(os.environ.get("TSUR_SOCIAL_RETRIES", "3")),
    "BACKOFF_SECONDS": float(os.environ.get("TSUR_SOCIAL_BACKOFF_SECONDS", "1")),
    # a source that failed is left alone BACKOFF · 2^failures seconds, at most this long
    "SOURCE_BACKOFF_MAX_SECONDS": int(os.environ.get("TSUR_SOCIAL_SOURCE_BACKOFF_MAX_SECONDS", "3600")),
    # a reply that could not be posted is tried again this many times
    "REPLY_ATTEMPTS": int(os.environ.get("TSUR_SOCIAL_REPLY_ATTEMPTS", "5")),
    # posts about one problem: text similarity at least this, within this many hours
    "MERGE_SIMILARITY": float(os.environ.get("TSUR_SOCIAL_MERGE_SIMILARITY", "0.4")),
    "MERGE_WINDOW_HOURS": int(os.environ.get("TSUR_SOCIAL_MERGE_WINDOW_HOURS", "72")),
    # the triage model labels alone at this confidence; below it the post waits for a moderator
    "TRIAGE_CONFIDENCE": float(os.environ.get("TSUR_SOCIAL_TRIAGE_CONFIDENCE", "0.8")),
    "TRIAGE_MODEL": os.environ.get("TSUR_SOCIAL_TRIAGE_MODEL", str(VAR_DIR / "models" / "social-triage")),
    # the job worker reads the sources and posts the replies every minute (0: another process does)
    "PERIODIC": env_bool("TSUR_SOCIAL_PERIODIC", True),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refusals_without_traceback": {"()": "tsur.core.log.RefusalsWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # a refused request is a one-line warning, not a traceback (tsur.core.log)
        "django.request": {"filters": ["refusals_without_traceback"]},
        "pymorphy3": {"level": "WARNING"},
        "pymorphy2": {"level": "WARNING"},
    },
}

# "/" sends each signed-in person on to their own workspace (tsur.web.shell_views.landing)
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
