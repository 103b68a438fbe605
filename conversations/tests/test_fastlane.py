"""The fast lane (chatbot_project/fastlane.py) for POST /v1/retrieve and POST /v1/chat answers
exactly like the Django views, hands everything unusual to Django, and the bot remembered per
process (selectors.with_bot) never outlives a change or crosses tenants. The live-server tests
(test_live_stream.py) run through the lane and without it (timing, cancellation, SDK)."""

from __future__ import annotations

import json

import httpx
import pytest
from asgiref.sync import async_to_sync

from conversations import chat_asgi
from conversations.tests.conftest import build_kb
from conversations.tests.helpers import parse_sse

pytestmark = pytest.mark.django_db(transaction=True)

Q = "How do I limit anonymous clients per day?"
CANARY = "OKAPI-CANARY-9127"
# Differ per request by nature; everything else must be equal.
VOLATILE = {"date", "x-request-id", "x-ratelimit-remaining"}


def _call(app, body: bytes, headers: dict[str, str], path: str = "/v1/retrieve") -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return await client.post(path, content=body, headers=headers)

    return async_to_sync(go)()


def _asgi():
    from chatbot_project.asgi import application

    return application


def _django():
    from chatbot_project.lean import APIASGIHandler

    return APIASGIHandler()


def _post(key: str, payload: object, app=None, path="/v1/retrieve", **headers) -> httpx.Response:
    base = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    return _call(app or _asgi(), json.dumps(payload).encode(), {**base, **headers}, path)


def _same(fast: httpx.Response, slow: httpx.Response, body: bool = True) -> None:
    assert fast.status_code == slow.status_code
    volatile = VOLATILE if body else {*VOLATILE, "content-length"}
    if body:
        assert fast.json() == slow.json()
    strip = {k: v for k, v in fast.headers.items() if k not in volatile}
    assert strip == {k: v for k, v in slow.headers.items() if k not in volatile}


@pytest.mark.parametrize(
    "payload",
    [
        {"bot": "helper", "query": Q, "top_k": 2},
        {"bot": "helper", "query": Q, "mode": "keyword"},
        {"bot": "helper", "query": Q, "mode": "hybrid", "score_threshold": 0.2},
        {"bot": "no-such-bot", "query": Q},
    ],
)
def test_fast_path_answers_like_the_django_view(kb, make_key, served, payload):
    key = make_key(kb.tenant, ("chat",))
    slow = _post(key, payload, app=_django())
    fast = _post(key, payload)
    assert served == [1]
    _same(fast, slow)
    assert fast.headers["X-RateLimit-Limit"]
    if payload["bot"] == "helper":
        assert fast.json()["data"][0]["document_title"] == "Throttling"


def test_rate_limited_and_request_id(kb, make_key, served):
    key = make_key(kb.tenant, ("chat",), rate_limit="1/m")
    payload = {"bot": "helper", "query": Q}
    res = _post(key, payload, **{"X-Request-ID": "trace-42"})
    assert res.status_code == 200
    assert res.headers["X-Request-ID"] == "trace-42"
    fast = _post(key, payload)
    slow = _post(key, payload, app=_django())
    assert served == [1, 1]
    _same(fast, slow)
    assert fast.status_code == 429
    assert fast.json()["error"]["type"] == "rate_limited"
    assert int(fast.headers["Retry-After"]) >= 1


def test_a_key_not_cached_in_this_process_takes_the_lane_too(kb, make_key, served, settings):
    settings.API_KEY_CACHE_SECONDS = 0  # every request verifies the key (one DB-thread read)
    key = make_key(kb.tenant, ("chat",))
    for _ in range(2):
        assert _post(key, {"bot": "helper", "query": Q}).status_code == 200
    assert served == [1, 1]


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b'{"bot": "helper", "query": "x"', {}),  # not JSON
        (b'{"datasets": [], "query": "x"}', {}),  # not the plain form
        (b'{"bot": "helper", "query": "x"}', {"Content-Type": "text/plain"}),
        (b'{"bot": "helper", "query": "x"}', {"Origin": "https://elsewhere.example"}),
        (b'{"bot": "helper", "query": "x"}', {"Host": "evil.example"}),
    ],
)
def test_anything_unusual_goes_to_django(kb, make_key, served, body, headers):
    key = make_key(kb.tenant, ("chat",))
    base = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    fast = _call(_asgi(), body, {**base, **headers})
    slow = _call(_django(), body, {**base, **headers})
    assert served == []
    _same(fast, slow)


def test_key_without_chat_permission_and_unknown_key_go_to_django(kb, make_key, served):
    reader = make_key(kb.tenant, ("read",))
    for _ in range(2):
        res = _post(reader, {"bot": "helper", "query": Q})
        assert res.status_code == 403
    res = _post("ck_" + "x" * 40, {"bot": "helper", "query": Q})
    assert res.status_code == 401
    assert served == []


def test_cross_tenant_on_the_fast_path(kb, other_tenant, make_key, served):
    """Same bot slug in two tenants, A's bot read (and remembered) first: B's key only ever
    gets B's bot; A's bot id through B's key is a 404."""
    theirs = build_kb(other_tenant, slug="helper", docs={"Secret": [f"The {CANARY} is here."]})
    mine, other = make_key(kb.tenant, ("chat",)), make_key(other_tenant, ("chat",))
    for key in (mine, other):
        _post(key, {"bot": "helper", "query": CANARY})  # both bots remembered from here on
    res = _post(mine, {"bot": "helper", "query": CANARY, "mode": "keyword"})
    assert res.status_code == 200
    assert all(CANARY not in r["text"] for r in res.json()["data"])
    res = _post(other, {"bot": "helper", "query": CANARY, "mode": "keyword"})
    assert CANARY in res.json()["data"][0]["text"]
    res = _post(mine, {"bot": str(theirs.bot.id), "query": CANARY})
    assert res.status_code == 404
    assert res.json()["error"]["type"] == "not_found"
    assert len(served) == 5


def test_remembered_bot_never_outlives_a_change(kb, make_key, served):
    from bots.services import bot_update
    from datasets.tests.factories import DatasetFactory

    key = make_key(kb.tenant, ("chat",))
    payload = {"bot": "helper", "query": Q, "mode": "keyword"}
    _post(key, payload)
    assert _post(key, payload).json()["data"]  # the bot is remembered now
    empty = DatasetFactory(tenant=kb.tenant, name="empty")
    bot_update(tenant=kb.tenant, bot=kb.bot, data={"datasets": [empty.id]})
    assert _post(key, payload).json()["data"] == []  # the old dataset is gone at once
    bot_update(tenant=kb.tenant, bot=kb.bot, data={"datasets": [kb.dataset.id]})
    assert _post(key, payload).json()["data"]
    kb.bot.is_active = False
    kb.bot.save()
    assert _post(key, payload).status_code == 404
    assert len(served) == 5


def test_search_statements_are_prepared_on_django_connections(kb):
    """Django opens connections with prepared statements off; settings.py turns them on for
    the statements that ask (DB_PREPARED_STATEMENTS), so the retrieval's are prepared."""
    from django.db import connection

    from datasets.retrieval import retrieve

    for _ in range(2):
        retrieve(tenant=kb.tenant, query=Q, dataset_ids=[kb.dataset.id], mode="keyword")
    with connection.cursor() as cur:
        cur.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [r[0] for r in cur.fetchall()]
    assert any("ts_rank" in s for s in prepared), prepared


# --------------------------------------------------------------------------- POST /v1/chat
@pytest.fixture
def chat_served(monkeypatch):
    calls: list[int] = []
    real = chat_asgi._chat

    async def counting(*args):
        calls.append(1)
        return await real(*args)

    monkeypatch.setattr(chat_asgi, "_chat", counting)
    return calls


@pytest.mark.parametrize("stream", [False, True])
def test_chat_lane_answers_like_the_django_view(kb, make_key, openai_stub, chat_served, stream):
    key = make_key(kb.tenant, ("chat",))
    payload = {"bot": "helper", "message": Q, "stream": stream}
    slow = _post(key, payload, app=_django(), path="/v1/chat")
    fast = _post(key, payload, path="/v1/chat")
    assert chat_served == [1]
    _same(fast, slow, body=False)
    if stream:
        fast_events, slow_events = (parse_sse(r.text) for r in (fast, slow))
        assert [e for e, _ in fast_events] == [e for e, _ in slow_events]
        assert fast_events[1] == slow_events[1]  # the same citations
        assert fast_events[-1][1]["finish_reason"] == "stop"
    else:
        a, b = fast.json(), slow.json()
        assert set(a) == set(b)
        assert (a["answer"], a["citations"], a["finish_reason"]) == (
            b["answer"], b["citations"], b["finish_reason"],
        )  # fmt: skip


def test_chat_lane_errors_and_fallbacks(kb, make_key, openai_stub, chat_served):
    key = make_key(kb.tenant, ("chat",), rate_limit="3/m")
    ok = {"bot": "helper", "message": Q}
    assert _post(key, ok, path="/v1/chat").status_code == 200
    fast = _post(key, {"bot": "no-such-bot", "message": Q}, path="/v1/chat")
    slow = _post(key, {"bot": "no-such-bot", "message": Q}, app=_django(), path="/v1/chat")
    assert chat_served == [1, 1]
    _same(fast, slow)
    assert fast.status_code == 404
    fast = _post(key, ok, path="/v1/chat")  # the 4th hit of 3/m
    assert fast.status_code == 429
    assert fast.json()["error"]["type"] == "rate_limited"
    assert int(fast.headers["Retry-After"]) >= 1
    for bad in ({"bot": "helper"}, {"message": Q}, "not an object"):
        assert _post(key, bad, path="/v1/chat").status_code in (400, 429)
    assert len(chat_served) == 3  # the malformed bodies went to Django for their wording


def test_unexpected_errors_are_api_500s_on_both_paths(kb, make_key, monkeypatch, chat_served):
    from conversations import streaming

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(streaming, "prepare_chat", broken)
    key = make_key(kb.tenant, ("chat",))
    payload = {"bot": "helper", "message": Q}
    fast = _post(key, payload, path="/v1/chat")
    slow = _post(key, payload, app=_django(), path="/v1/chat")
    assert chat_served == [1]
    assert fast.status_code == slow.status_code == 500
    assert fast.json() == slow.json()
    assert fast.json()["error"]["message"].startswith("Something went wrong")


def test_chat_lane_gives_the_stream_slot_back(kb, make_key, openai_stub, chat_served, settings):
    from chatbot_project.redis_client import get_redis

    settings.MAX_CONCURRENT_STREAMS_PER_KEY = 1
    key = make_key(kb.tenant, ("chat",))
    for stream in (True, True, False, False):
        res = _post(key, {"bot": "helper", "message": Q, "stream": stream}, path="/v1/chat")
        assert res.status_code == 200, res.text
    assert len(chat_served) == 4
    assert not [k for k in get_redis().keys("chat-streams:*") if get_redis().zcard(k)]


@pytest.mark.parametrize("stream", [True, False])
def test_chat_lane_access_log_says_200_for_a_complete_answer(
    kb, make_key, openai_stub, chat_served, caplog, stream
):
    """Not 499: once the response is complete the server reports the client as gone, which
    must not be taken for a client that left mid-answer."""
    import logging

    caplog.set_level(logging.INFO, logger="chatbot.access")
    key = make_key(kb.tenant, ("chat",))
    res = _post(key, {"bot": "helper", "message": Q, "stream": stream}, path="/v1/chat")
    assert res.status_code == 200
    assert chat_served == [1]
    statuses = [r.status for r in caplog.records if r.name == "chatbot.access"]
    assert statuses == [200]


@pytest.mark.parametrize("lane", ["fast lane", "django"])
def test_an_explicit_stream_in_the_body_wins_over_the_accept_header(
    kb, make_key, openai_stub, chat_served, lane
):
    """``"stream": false`` with ``Accept: text/event-stream`` was answered as SSE; the body's
    explicit value decides, the header only when the body says nothing."""
    key = make_key(kb.tenant, ("chat",))
    app = _asgi() if lane == "fast lane" else _django()
    sse = {"Accept": "text/event-stream"}
    cases = [
        ({"stream": False}, sse, "application/json"),
        ({}, sse, "text/event-stream"),
        ({"stream": True}, {"Accept": "application/json"}, "text/event-stream"),
        ({}, {}, "application/json"),
    ]
    for extra, headers, expected in cases:
        res = _post(key, {"bot": "helper", "message": Q, **extra}, app, "/v1/chat", **headers)
        assert res.status_code == 200, res.text
        assert res.headers["content-type"].startswith(expected), (extra, headers)
        if expected == "application/json":
            assert res.json()["finish_reason"] == "stop"
        else:
            assert parse_sse(res.text)[-1][0] == "end"
    assert len(chat_served) == (4 if lane == "fast lane" else 0)  # (both paths, one function)
