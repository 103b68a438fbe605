"""bench/chat.py's set-up: its database (``bench_chat``, or ``BENCH_DB``) and Redis db (10, or
``BENCH_REDIS_DB``) with Django set up on them at import, the knowledge base and API key it chats
with, and the two processes it measures: the OpenAI-compatible stub and the app server.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

from bench.common import BASE, configure, serve

BENCH_DB, BENCH_REDIS_DB, BENCH_URL, BENCH_REDIS = configure("bench_chat", "10")

DOCS = {
    "Throttling": "Throttling limits how many requests a client can make. Use AnonRateThrottle "
    "to limit anonymous clients, for example to 100 requests per day, and UserRateThrottle for "
    "authenticated users.",
    "Pagination": "Pagination splits large result sets into pages. CursorPagination gives an "
    "opaque cursor and a stable ordering; PageNumberPagination uses page numbers.",
    "Authentication": "TokenAuthentication uses a simple token-based HTTP authentication "
    "scheme. Clients send the token in the Authorization header.",
}
QUESTIONS = [
    "How do I limit anonymous clients per day?",
    "How does cursor pagination keep a stable ordering?",
    "Where do clients send the authentication token?",
    "What is the difference between page numbers and cursors?",
    "Can I throttle authenticated users differently?",
]


def setup_fixture() -> str:
    """The bench tenant's knowledge base, bot and a new API key. Every earlier run's chats are
    dropped first: each capacity run saves ~3,000 conversations, and a database left to grow
    (670k messages after a few sessions) measured autovacuum and a larger heap, not the server."""
    from django.db import connection

    from apikeys.services import api_key_create
    from bots.models import Bot
    from datasets.ingestion import process_document
    from datasets.models import Document
    from datasets.services import dataset_get_or_create, document_create_from_text
    from tenants.models import Tenant

    if connection.settings_dict["NAME"].startswith("bench"):  # never an app's database
        with connection.cursor() as cur:
            cur.execute("TRUNCATE conversations_message, conversations_conversation CASCADE")
    tenant, _ = Tenant.objects.get_or_create(slug="bench-chat", defaults={"name": "Bench"})
    dataset, _ = dataset_get_or_create(tenant=tenant, name="kb")
    for title, text in DOCS.items():
        doc, _ = document_create_from_text(tenant=tenant, dataset=dataset, text=text, title=title)
        if doc.status != Document.Status.READY:
            Document.objects.filter(pk=doc.pk).update(status=Document.Status.QUEUED)
            process_document(doc.id, use_lease=False)
    bot, _ = Bot.objects.get_or_create(
        tenant=tenant, slug="helper",
        defaults={"name": "Helper", "retrieval_mode": "hybrid", "top_k": 5, "max_tokens": 256},
    )  # fmt: skip
    bot.datasets.set([dataset])
    _, key = api_key_create(
        tenant=tenant, name="bench", permissions=("chat",), rate_limit="9999999/m"
    )
    return key


# --------------------------------------------------------------------------- processes
def start_stub(port: int, *, reply: str, token_delay: float) -> subprocess.Popen:
    """The upstream: ``bench/asyncstub.py`` (one asyncio thread; the test suite's threaded stub
    ran a thread per stream and, holding ~2,000, starved the server of CPU)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.asyncstub", "--port", str(port),
         "--reply", reply, "--token-delay", str(token_delay)],
        cwd=BASE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    _wait_port(port)
    return proc


def start_server(server: str, port: int, stub_port: int) -> subprocess.Popen:
    proc = serve(
        port, server, BENCH_URL, BENCH_REDIS,
        OPENAI_BASE_URL=f"http://127.0.0.1:{stub_port}/v1", OPENAI_API_KEY="sk-bench",
        CHAT_PROVIDER="openai", CHAT_MODEL="stub-model", EMBEDDING_PROVIDER="local",
        # One API key stands for thousands of users here: its per-key stream cap (20) is off.
        MAX_CONCURRENT_STREAMS_PER_KEY="0",
    )  # fmt: skip
    _wait_port(port, timeout=60)
    return proc


def _wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")
