"""Settings of the backing services: PostgreSQL, Redis (cache, channel layer) and the Celery
broker on it. Split from ``settings.py`` (which star-imports this at the same point, so every
upper-case name here is a setting); like it, everything comes from the environment.

Without DATABASE_URL / REDIS_URL the embedded servers are started and used (``embedded``).
"""

from __future__ import annotations

import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from chatbot_project.env import env_bool, env_float, env_int, env_str, running_tests

if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
    from chatbot_project import embedded

    os.environ.update(embedded.configure_environment())

DATABASE_URL = env_str("DATABASE_URL", required=True)
REDIS_URL = env_str("REDIS_URL", required=True)
try:
    from redis.connection import parse_url as _parse_redis_url

    _parse_redis_url(REDIS_URL)
except ValueError:  # else every request that touched Redis was a 500 (rate limits: all of them)
    # Without the URL itself, which may hold a password.
    raise ImproperlyConfigured(
        "REDIS_URL is not a valid Redis URL: use redis://[:<password>@]<host>:<port>/<db> "
        "(rediss:// with TLS, or unix:///path/to/redis.sock), with special characters of the "
        "password percent-encoded."
    ) from None
if running_tests() and not env_bool("TEST_KEEP_REDIS_URL", False):
    # Tests get their own Redis db (flushed per test) so a running `make run` keeps its data.
    from urllib.parse import urlsplit, urlunsplit

    _parts = urlsplit(REDIS_URL)
    REDIS_URL = urlunsplit(_parts._replace(path=f"/{env_int('TEST_REDIS_DB', 1)}"))
# Connections per Redis client pool (one per process, one per event loop); a request needing one
# while all are busy waits for one (up to 5 s) instead of failing (redis-py's default is 100).
REDIS_MAX_CONNECTIONS = env_int("REDIS_MAX_CONNECTIONS", 1000, minimum=1)
# The event loop's Lua scripts (rate limits, chat slots) over one lean multiplexed connection
# per loop (chatbot_project.redis_lane); false: through redis-py's asyncio pool instead.
REDIS_LANE = env_bool("REDIS_LANE", True)

_conn_max_age = env_int("DB_CONN_MAX_AGE", 60)
try:
    _database = dj_database_url.parse(DATABASE_URL, conn_max_age=_conn_max_age)
except ValueError:  # dj_database_url's ParseError/UnknownSchemeError (a traceback at start)
    _database = {}
if not _database.get("ENGINE", "").endswith(("postgresql", "postgis")):
    # Without the URL itself, which may hold a password.
    raise ImproperlyConfigured(
        "DATABASE_URL is not a valid PostgreSQL URL: use postgresql://<user>:<password>@<host>"
        ":<port>/<database>, with special characters of the password percent-encoded (@ as %40)."
    )
DATABASES = {"default": _database}
_opts = DATABASES["default"].get("OPTIONS") or {}
if "host" in _opts:  # postgresql://user@/db?host=/socket/dir form: keep HOST/PORT authoritative
    DATABASES["default"]["HOST"] = _opts.pop("host")
    DATABASES["default"]["PORT"] = _opts.pop("port", DATABASES["default"].get("PORT") or 5432)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})
if env_bool("DB_POOL", True):
    # Under ASGI every sync view runs in a fresh thread, and Django's connections are per thread:
    # without a pool each DRF request opened its own PostgreSQL connection (several ms; see
    # bench/README.md). psycopg's pool hands out a checked, already-open connection instead.
    # CONN_HEALTH_CHECKS (above) makes Django pass ConnectionPool.check_connection.
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # required with a pool: close() returns it
    _pool = (env_int("DB_POOL_MIN", 2, minimum=0), env_int("DB_POOL_MAX", 40, minimum=1))
    if _pool[0] > _pool[1]:  # psycopg_pool's ValueError traceback at the first query otherwise
        raise ImproperlyConfigured(
            f"DB_POOL_MIN={_pool[0]} is above DB_POOL_MAX={_pool[1]}; lower it or raise "
            "DB_POOL_MAX."
        )
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": _pool[0],
        "max_size": _pool[1],
        "timeout": env_float("DB_POOL_TIMEOUT_SECONDS", 3.0),  # fail fast (503) when the DB is down
    }
# Django turns psycopg's prepared statements off (prepare_threshold None, for transaction-mode
# poolers), which also makes ``prepare=True`` a no-op: every search and bot read was planned
# again (~0.3-0.5 ms each; chatbot_project/pgpipe.py). A threshold no repeated ORM query reaches
# prepares only the statements that ask. DB_PREPARED_STATEMENTS=false behind PgBouncer in
# transaction mode.
if env_bool("DB_PREPARED_STATEMENTS", True):
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 2**31 - 1)
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", "test_chatbot")}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "cb"),
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

# A consumer subscribed to the layer (the chat WebSocket is not) blocks in BZPOPMIN for
# brpop_timeout (5 s); redis-py's socket timeout (also 5 s) must outlast it, or every idle socket
# dropped at 5 s. It stays finite so that a Redis gone silent is still noticed.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [{"address": REDIS_URL, "socket_connect_timeout": 2, "socket_timeout": 15}],
            "prefix": env_str("CACHE_KEY_PREFIX", "cb") + ":ch",
        },
    }
}

# --------------------------------------------------------------------------- Celery
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("INGEST_TIME_LIMIT_SECONDS", 1800)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 60}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
