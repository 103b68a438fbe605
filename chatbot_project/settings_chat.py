"""Settings of the model providers and the chat path: OpenAI/extractive providers, embeddings,
the metrics token, the upstream's HTTP client, SSE pings, chat threads, stream caps and the
conversation lock.
Split from ``settings.py`` (which star-imports this at the same point, so every upper-case
name here is a setting); like it, everything comes from the environment.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from chatbot_project.env import env_bool, env_choice, env_float, env_int, env_str, running_tests

OPENAI_API_KEY = env_str("OPENAI_API_KEY")
METRICS_TOKEN = env_str("METRICS_TOKEN")  # GET /metrics (chatbot_project/metrics.py); off if unset
METRICS_CACHE_SECONDS = env_float("METRICS_CACHE_SECONDS", 10.0)
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL", "https://api.openai.com/v1")
CHAT_PROVIDER = env_choice(
    "CHAT_PROVIDER", "openai" if OPENAI_API_KEY else "extractive", {"openai", "extractive"}
)
CHAT_MODEL = env_str("CHAT_MODEL", "gpt-4o-mini" if OPENAI_API_KEY else "extractive")
EMBEDDING_PROVIDER = env_choice(
    "EMBEDDING_PROVIDER", "openai" if OPENAI_API_KEY else "local", {"openai", "local"}
)
EMBEDDING_MODEL = env_str(
    "EMBEDDING_MODEL",
    "text-embedding-3-small" if EMBEDDING_PROVIDER == "openai" else "local-minilm-l6-v2",
)
EMBEDDING_DIMENSIONS = env_int("EMBEDDING_DIMENSIONS", 384, minimum=1)
if EMBEDDING_DIMENSIONS != 384:
    raise ImproperlyConfigured(
        "EMBEDDING_DIMENSIONS must be 384: the chunk column is vector(384). OpenAI's "
        "text-embedding-3 models return 384 dimensions when asked (we send `dimensions`)."
    )
# Local model: document chunks through the int8 onnxruntime encoder, one chunk per call (~3.5x the
# chunks/s of the float32 numpy pass, bench/README.md "Chunk embeddings in int8"), or fp32.
# int8 falls back to fp32 without onnxruntime; the label (datasets' embedding_model) says which.
DOCUMENT_EMBEDDING_PRECISION = env_choice("DOCUMENT_EMBEDDING_PRECISION", "int8", {"int8", "fp32"})
LLM_TIMEOUT_SECONDS = env_float("LLM_TIMEOUT_SECONDS", 60.0)
# The upstream's HTTP client: "auto" = the lean asyncio client (conversations/upstream_http.py)
# unless a proxy is configured for OPENAI_BASE_URL, then httpx; "httpx" forces httpx.
LLM_HTTP_CLIENT = env_str("LLM_HTTP_CLIENT", "auto")
if LLM_HTTP_CLIENT not in ("auto", "httpx"):
    raise ImproperlyConfigured("LLM_HTTP_CLIENT must be auto or httpx.")
SSE_PING_SECONDS = env_float("SSE_PING_SECONDS", 15.0)
# A response body write to a chat client (SSE, OpenAI stream, JSON) that waits this long (the
# client stopped reading) gives the client up as gone: its chat is cancelled and its slot
# freed (chatbot_project/write_timeout.py). 0 = wait for ever.
SSE_WRITE_TIMEOUT_SECONDS = env_float("SSE_WRITE_TIMEOUT_SECONDS", 30.0)
# Chat (conversations app): history budget in tokens; DB work of the streaming path in shared
# worker threads (False) or in Django's per-request thread (True: tests, so they see their
# transaction). See conversations/chat.py:_thread_sensitive.
CHAT_HISTORY_TOKENS = env_int("CHAT_HISTORY_TOKENS", 2000, minimum=0)
CHAT_DB_THREAD_SENSITIVE = env_bool("CHAT_DB_THREAD_SENSITIVE", running_tests())
# Threads (each with one persistent connection) for the chat path's database work per process.
CHAT_DB_THREADS = env_int("CHAT_DB_THREADS", 16, minimum=1)
CHAT_WRITE_THREADS = env_int("CHAT_WRITE_THREADS", 4, minimum=1)  # conversations/dbthreads.py
CHAT_REVALIDATE_SECONDS = env_float("CHAT_REVALIDATE_SECONDS", 2.0)  # re-check keys on open streams
# Chats answering at once (conversations/slots.py; 429 beyond; 0 = no cap). A server-side key
# has one caller: 20 per key. A browser key (one with allowed_origins) is shared by every
# visitor of its site, so it gets a cap of its own, sized for a busy site rather than one
# caller: 200 (a fifth of what one server process carries within its latency bounds, ~950
# open streams in bench/README.md "Capacity", so one site cannot fill a process). Within it,
# each visitor (client address of a request with an Origin, as VISITOR_RATE_LIMIT counts) may
# have 3: the widget answers one chat at a time per page, so 3 covers a few open tabs or a few
# people behind one address; one visitor cannot hold the site's allowance (67 addresses are
# needed to fill 200). Raise it where many visitors share an address (an office, carrier NAT).
MAX_CONCURRENT_STREAMS_PER_KEY = env_int("MAX_CONCURRENT_STREAMS_PER_KEY", 20, minimum=0)
MAX_CONCURRENT_STREAMS_PER_BROWSER_KEY = env_int(
    "MAX_CONCURRENT_STREAMS_PER_BROWSER_KEY", 200, minimum=0
)
MAX_CONCURRENT_STREAMS_PER_VISITOR = env_int("MAX_CONCURRENT_STREAMS_PER_VISITOR", 3, minimum=0)
WS_MAX_CHATS_PER_SOCKET = env_int("WS_MAX_CHATS_PER_SOCKET", 4, minimum=0)  # queued too; 0: off
# Chat sockets open at once (conversations/socket_slots.py, counted in Redis across processes;
# one more is refused: `rate_limited`, close code 4429; 0 = no cap). An idle socket costs ~67 KB
# of its server: one visitor held 3,000 (~200 MB). 100 per server-side key; 1,000 per browser
# key (all of a site's visitors) and 10 per visitor (client address, as the chat caps count).
WS_MAX_SOCKETS_PER_KEY = env_int("WS_MAX_SOCKETS_PER_KEY", 100, minimum=0)
WS_MAX_SOCKETS_PER_BROWSER_KEY = env_int("WS_MAX_SOCKETS_PER_BROWSER_KEY", 1000, minimum=0)
WS_MAX_SOCKETS_PER_VISITOR = env_int("WS_MAX_SOCKETS_PER_VISITOR", 10, minimum=0)
# One answer at a time per conversation (409 `conflict`); a crashed process's lock lapses after.
CHAT_CONVERSATION_LOCK_SECONDS = env_int("CHAT_CONVERSATION_LOCK_SECONDS", 600, minimum=1)
