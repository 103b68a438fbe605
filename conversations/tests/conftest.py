"""Fixtures for the chat tests: a small knowledge base embedded for real, a bot, keys; and the
browser tests' fixtures (browser_fixtures.py, browser_demo.py), registered here for the
test_browser_*.py modules (module-scoped: each module gets its own browser and servers), and
``live`` (live_fixtures.py: the app in a server process)."""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from conversations.tests.browser_demo import demo  # noqa: F401 - fixture
from conversations.tests.browser_fixtures import (  # noqa: F401 - fixtures
    browser,
    live_app,
    streaming_app,
    third_party_site,
)
from conversations.tests.factories import BotFactory, ScopeFactory
from conversations.tests.live_fixtures import (
    QUESTION,
    live,  # noqa: F401 - fixture
)
from datasets.tests.factories import ChunkFactory, DatasetFactory, DocumentFactory

DOCS = {
    "Throttling": [
        "Throttling limits how many requests a client can make. Use AnonRateThrottle to limit "
        "anonymous clients, for example to 100 requests per day.",
        "The UserRateThrottle limits authenticated users by their user id.",
    ],
    "Pagination": [
        "Pagination splits large result sets into pages. CursorPagination gives an opaque cursor "
        "and a stable ordering.",
    ],
    "Authentication": [
        "TokenAuthentication uses a simple token-based HTTP authentication scheme. Clients send "
        "the token in the Authorization header.",
    ],
}


@functools.lru_cache(maxsize=4096)
def embed_cached(text: str) -> tuple[float, ...]:
    """Real embeddings, computed once per text per test session (the model is the slow part)."""
    from datasets.embeddings import get_embedder

    return tuple(get_embedder().embed_documents([text])[0])


@dataclass
class KB:
    tenant: Any
    dataset: Any
    bot: Any
    documents: dict[str, Any]


def build_kb(tenant, *, slug: str = "helper", docs: dict[str, list[str]] | None = None,
             tags: dict[str, list[str]] | None = None, **bot_kw) -> KB:  # fmt: skip
    dataset = DatasetFactory(tenant=tenant, name=f"kb-{slug}")
    documents = {}
    for title, chunks in (docs or DOCS).items():
        doc = DocumentFactory(dataset=dataset, title=title, tags=(tags or {}).get(title, []))
        documents[title] = doc
        for i, text in enumerate(chunks):
            body = f"{title} > {text}"
            ChunkFactory(document=doc, index=i, text=body, embedding=list(embed_cached(body)))
    bot = BotFactory(tenant=tenant, slug=slug, datasets=[dataset], **bot_kw)
    return KB(tenant=tenant, dataset=dataset, bot=bot, documents=documents)


@pytest.fixture
def kb(tenant) -> KB:
    return build_kb(tenant)


@pytest.fixture
def key(kb, make_key) -> str:
    """An API key of the knowledge base's tenant."""
    return make_key(kb.tenant)


@pytest.fixture
def scope_factory():
    return ScopeFactory


@pytest.fixture
def served(monkeypatch):
    """Count the POST /v1/retrieve requests the fast lane answered itself."""
    calls: list[int] = []
    from conversations import retrieve_asgi

    real = retrieve_asgi._serve

    def counting(*args):
        result = real(*args)
        if result is not None:  # None: an aged key not confirmed, handed to Django
            calls.append(1)
        return result

    monkeypatch.setattr(retrieve_asgi, "_serve", counting)
    return calls


@dataclass
class ChatRequests:
    """The in-process app asked ``QUESTION`` of the ``helper`` bot with a ``chat`` key of the
    knowledge base's tenant: through the fast lane, or Django's view with ``lane="django"``."""

    key: str

    def chat(self, *, lane: str = "fast lane", stream: bool = False) -> Any:
        """``POST /v1/chat`` (SSE with ``stream``, else JSON)."""
        body: dict[str, Any] = {"bot": "helper", "message": QUESTION}
        if stream:
            body["stream"] = True
        return self._post(body, "/v1/chat", lane)

    def openai(self, *, stream: bool = False) -> Any:
        """``POST /v1/openai/chat/completions`` (streamed with ``stream``), fast lane."""
        body: dict[str, Any] = {
            "model": "helper",
            "messages": [{"role": "user", "content": QUESTION}],
        }
        if stream:
            body["stream"] = True
        return self._post(body, "/v1/openai/chat/completions", "fast lane")

    def _post(self, body: dict[str, Any], path: str, lane: str) -> Any:
        from conversations.tests.test_fastlane import _django, _post

        return _post(self.key, body, app=_django() if lane == "django" else None, path=path)


@pytest.fixture
def chat_requests(kb, make_key) -> ChatRequests:
    """Chat requests to the app in this process (``ChatRequests``); with ``misshapen_upstream``
    or ``chat_bug`` for the upstream the chat reads."""
    return ChatRequests(make_key(kb.tenant, ("chat",)))


class _MisshapenUpstream(BaseHTTPRequestHandler):
    """An OpenAI-compatible server streaming ``server.chunks`` (``data:`` payloads, then
    ``[DONE]``); by default a first piece of the answer, then a chunk whose ``choices`` is a
    number (valid JSON, not the shape any provider documents). With ``server.json_body`` set it
    answers that as a non-streamed ``application/json`` body instead."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.json_body is not None:
            body, content_type = self.server.json_body, "application/json"
        else:
            chunks = [*self.server.chunks, b"[DONE]"]
            body, content_type = b"".join(b"data: %s\n\n" % c for c in chunks), "text/event-stream"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


PARTIAL_ANSWER = "Use AnonRateThrottle"


@pytest.fixture
def misshapen_upstream(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _MisshapenUpstream)
    server.chunks = [
        json.dumps({"choices": [{"index": 0, "delta": {"content": PARTIAL_ANSWER}}]}).encode(),
        b'{"choices": 5}',
    ]
    server.json_body = None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}/v1"
    settings.OPENAI_API_KEY = "sk-stub"
    settings.CHAT_PROVIDER = "openai"
    settings.CHAT_MODEL = "stub-model"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def chat_bug(openai_stub, monkeypatch) -> threading.Event:
    """Chats fail with an unexpected exception while relaying the model's answer, as a bug in
    our code would: ``llm._decode_chunk`` (reading the real stub's stream) raises RuntimeError
    while the returned event is set (``chat_bug.clear()`` to let the next chats work)."""
    from conversations import llm

    armed = threading.Event()
    armed.set()
    real = llm._decode_chunk

    def buggy(data: bytes) -> Any:
        if armed.is_set():
            raise RuntimeError("simulated bug in the chunk decoder")
        return real(data)

    monkeypatch.setattr(llm, "_decode_chunk", buggy)
    return armed
