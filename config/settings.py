"""Project settings, read from the environment (and a `.env` file when present).

Every knob is listed with its default in README.md ("Configuration").
"""

import datetime as dt
import sys
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.utils.csp import CSP

from core.secret_key import secret_key_problem

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Real environment variables win over the file: `read_env` only fills what is unset.
environ.Env.read_env(env.str("DJANGO_ENV_FILE", default=str(BASE_DIR / ".env")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# It signs sessions and every JWT: the process refuses to start without one, and with
# debug off also with one anybody could know (core.secret_key says which). Debug mode
# takes any key but never a built-in one: a key in this file would be published.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if (not SECRET_KEY or not DEBUG) and (problem := secret_key_problem(SECRET_KEY)):
    # One line, not a traceback: this is an operator's mistake, not a bug.
    hint = (
        "export it or put it in .env (`make run` writes a local one for you)"
        if not SECRET_KEY
        else "generate one with `python3 -c 'import secrets; print(secrets.token_urlsafe(50))'`"
        ", or set DJANGO_DEBUG=1 for local work"
    )
    sys.exit(f"DJANGO_SECRET_KEY {problem}: {hint}.")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    # django.contrib.admin, whose login is limited per address and per account.
    "users.apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core.apps.CoreConfig",
    "users.apps.UsersConfig",
    "posts.apps.PostsConfig",
]

MIDDLEWARE = [
    # First, so that the request id and the timing cover everything below.
    "core.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (SECURE_CSP below; the browsable API,
    # /docs and /redoc their own). Above the bearer shortcut, which must answer exactly
    # as the whole stack does. Cost: it builds the header for each response, about
    # 19 µs of CPU (in-process, best of 5 × 20,000), 2-3 % of a cached page.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Serves the admin's static files with debug off, compressed and cached forever.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Everything above shapes every response. Bearer-token API requests leave the stack
    # here for their view; the rest serve browser sessions (the admin, the browsable API).
    "core.bearer_requests.BearerRequestMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# Unset DATABASE_URL: an embedded SQLite file, so the API runs on a bare machine.
DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and IMMEDIATE transactions let several threads write without "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
    }
else:
    # Django's backend with a health check that asks the socket instead of the server.
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["ENGINE"] = "core.postgresql"
    DATABASES["default"].setdefault("OPTIONS", {})
    # Fail fast when PostgreSQL is unreachable instead of hanging a worker.
    DATABASES["default"]["OPTIONS"].setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3)
    )
    # Persistent connections, checked before reuse (core.postgresql: no round trip):
    # measured as fast as psycopg's pool and three times a connection per request
    # (docs/PERFORMANCE.md), with no extra dependency; one connection per gunicorn thread.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"

# --- Cache ----------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CACHE_TTL = env.int("CACHE_TTL", default=300)
# Off only to measure the database path (benchmarks); the API is correct either way.
CACHE_PAGES = env.bool("CACHE_PAGES", default=True)
# How long a signed-in user's cached fields are trusted after they were read from the
# database: the bound on how long a removed right (deactivation, demotion, deletion)
# can outlive its removal whatever happens to Redis (while Redis works, changes
# invalidate them at once). At most 30 seconds; 0 reads the user from the database on
# every request.
# The bound on a removed right (README, Authentication); users.user_fields holds to it.
USER_FIELDS_MAX_AGE_LIMIT = 30.0
USER_FIELDS_MAX_AGE = env.float("USER_FIELDS_MAX_AGE", default=30.0)
if not 0 <= USER_FIELDS_MAX_AGE <= USER_FIELDS_MAX_AGE_LIMIT:
    sys.exit(
        f"USER_FIELDS_MAX_AGE={USER_FIELDS_MAX_AGE:g} is outside 0..30: a removed right "
        "(deactivation, demotion, deletion) must stop working within 30 seconds."
    )
if env.str("USER_CACHE_TTL", default=""):
    sys.exit(
        "USER_CACHE_TTL is no longer read: unset it and set USER_FIELDS_MAX_AGE "
        "(seconds, at most 30) if the default of 30 does not suit you."
    )
# A rendered page larger than this is served but not stored, so that no one caller's
# large posts can fill Redis and evict everyone else's pages. 256 KiB holds a page of
# 100 posts of 2.5 KB each; a page of ten posts at the content limit is up to 800 KB.
CACHE_PAGE_MAX_BYTES = env.int("CACHE_PAGE_MAX_BYTES", default=256 * 1024)
# After a cache failure, how long to serve without the cache before trying it again.
CACHE_BREAKER_SECONDS = env.float("CACHE_BREAKER_SECONDS", default=5.0)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "api",
            "TIMEOUT": CACHE_TTL,
            "OPTIONS": {
                # A dead or slow Redis costs a request at most these timeouts; core.cache
                # then stops asking it for a few seconds (see its circuit breaker).
                "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_CONNECT_TIMEOUT", default=0.1),
                "SOCKET_TIMEOUT": env.float("REDIS_TIMEOUT", default=0.1),
            },
        }
    }
else:
    # Unset REDIS_URL: a cache in the embedded database, shared by every worker and by
    # management commands, so invalidation reaches all of them and no list goes stale.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "django_cache",
            "KEY_PREFIX": "api",
            "TIMEOUT": CACHE_TTL,
        }
    }

# Each readiness check (database, cache) must answer within this many seconds.
READINESS_TIMEOUT = env.float("READINESS_TIMEOUT", default=2.0)

# --- Auth -----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# How long a password reset link works, in seconds (Django's setting; default 1 hour).
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)
# The page of the frontend that takes a reset link's uid and token and posts them, with
# the new password, to /auth/password/reset/confirm.
FRONTEND_RESET_URL = env.str(
    "FRONTEND_RESET_URL", default="http://localhost:3000/reset-password/{uid}/{token}"
)

# --- Email ----------------------------------------------------------------------------
# One URL picks Django's email backend: smtp://user:pass@host:25, smtp+tls://…:587,
# smtp+ssl://…:465, consolemail:// (print to the console, the default), filemail:///dir.
# django-environ parses it; Django 6.1 configures mail with MAILERS (its EMAIL_HOST & co.
# are deprecated), so the parsed URL is written as the default mailer.
EMAIL_URL = env.str("EMAIL_URL", default="consolemail://")
# A mail server that does not answer holds the sending thread this long, not forever.
EMAIL_TIMEOUT_SECONDS = env.int("EMAIL_TIMEOUT", default=10)


def _mailer(url: str) -> dict:
    parsed = env.email_url_config(url)
    backend = parsed["EMAIL_BACKEND"]
    options = {}
    if backend.endswith(".smtp.EmailBackend"):
        options = {
            "host": parsed["EMAIL_HOST"] or "localhost",
            "port": parsed["EMAIL_PORT"] or 25,
            "username": parsed["EMAIL_HOST_USER"] or "",
            "password": parsed["EMAIL_HOST_PASSWORD"] or "",
            "use_tls": parsed.get("EMAIL_USE_TLS", False),
            "use_ssl": parsed.get("EMAIL_USE_SSL", False),
            "timeout": EMAIL_TIMEOUT_SECONDS,
        }
    elif backend.endswith(".filebased.EmailBackend"):
        # django-environ drops the leading slash of filemail:///abs/dir; keep the path.
        options = {"file_path": urlsplit(url).path or "."}
    return {"BACKEND": backend, "OPTIONS": options}


MAILERS = {"default": _mailer(EMAIL_URL)}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Users & Posts <no-reply@localhost>")
# Send after commit on a background thread (users.emails), so that requests do not wait
# for the mail server and take the same time whether or not they send.
EMAIL_IN_BACKGROUND = env.bool("EMAIL_IN_BACKGROUND", default=True)

# --- I18N / time ----------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# The largest request body accepted, in bytes: larger JSON bodies are a 413, larger
# admin forms a 400, both before the body is read.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", default=1_048_576)

# --- Content Security Policy ----------------------------------------------------------
# The smallest policies the pages satisfy, each found by loading them in Chromium
# (core/tests/test_browser.py fails on any violation). The admin, and every JSON
# answer: this server's scripts, styles, images and forms only, nothing inline,
# nothing from elsewhere, never framed. Each other page adds only what it was seen
# to need: the browsable API inline style attributes (DRF's templates; set by
# core.renderers), Swagger UI (/docs) data: images (its icons), ReDoc (/redoc) those
# too, inline <style> elements (its styled-components) and a worker from a blob (its
# search index). A blocked request is reported by the browser, never allowed.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
BROWSABLE_API_CSP = {**SECURE_CSP, "style-src-attr": [CSP.UNSAFE_INLINE]}
SWAGGER_UI_CSP = {**SECURE_CSP, "img-src": [CSP.SELF, "data:"]}
REDOC_CSP = {
    **SWAGGER_UI_CSP,
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "worker-src": [CSP.SELF, "blob:"],
}

# --- REST framework -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "core.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.SkipLimitPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "core.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    # /api/v1/… pins the version; the unversioned paths serve the current one.
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.URLPathVersioning",
    "DEFAULT_VERSION": "v1",
    "ALLOWED_VERSIONS": ["v1"],
    # Bearer tokens first: its WWW-Authenticate header is what a 401 carries.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "users.authentication.CachedUserJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.SignedInUserThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "auth": env.str("API_THROTTLE_AUTH", default="10/min"),
        "user": env.str("API_THROTTLE_USER", default="1000/min"),
        # Failed sign-ins per account from any address (users.sign_in). Short, because
        # whoever knows an email can use it up and lock the account out until it ends.
        "account": env.str("API_THROTTLE_ACCOUNT", default="10/15min"),
        # Password change and reset attempts on one account, from any address (users.throttling).
        "account_recovery": env.str("API_THROTTLE_ACCOUNT_RECOVERY", default="10/hour"),
    },
    # How many reverse proxies in front of us to trust in X-Forwarded-For. 0: use the
    # socket's address, so a client cannot pick its own throttle bucket.
    "NUM_PROXIES": env.int("API_TRUSTED_PROXIES", default=0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Users & Posts API",
    "DESCRIPTION": "Users and their posts. Sign in at `/auth/token` and send "
    "`Authorization: Bearer <access>`. Every path also answers without the `/api/v1` "
    "prefix (the current version) and with or without a trailing slash.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["core.schema.keep_one_path_per_operation"],
    # Swagger UI and ReDoc from drf-spectacular-sidecar's files: never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The bearer token typed into "Authorize" stays in the page's memory, never in
    # localStorage, where any script of this origin (and the next user) could read it.
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": False},
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": dt.timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": dt.timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "ALGORITHM": "HS256",
}

# --- Logging --------------------------------------------------------------------------
# One JSON object per line on stderr, each with the request id of the request that
# logged it. The request line of core.request_log is the access log.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.request_log.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # 4xx answers are already in the request line; keep django.request for 5xx.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "ERROR"},
    },
}

# --- HTTPS (behind a TLS-terminating proxy) -------------------------------------------
# Off by default so plain http://127.0.0.1 works; DJANGO_HTTPS=1 in deployments.
HTTPS = env.bool("DJANGO_HTTPS", default=False)
if HTTPS:
    SECURE_SSL_REDIRECT = True
    # Trust X-Forwarded-Proto: the proxy in front sets it (and must strip clients').
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Health checks come from inside the network over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$"]
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
