"""Limits (OWASP API4:2023 unrestricted resource consumption), against a live server:
body size (413), message length (scope `max_input_chars`, 400), bot `max_tokens` bounds, page size
(`limit` 1..100) and concurrent open streams per API key (429 over the limit, released on close).

The live server runs with MAX_JSON_BODY_BYTES=256 KiB and MAX_CONCURRENT_STREAMS_PER_KEY=3
(``hardening/tests/conftest.py``).
"""

from __future__ import annotations

import contextlib
import json
import time

import httpx
import pytest

from hardening.tests.conftest import LIVE_LIMITS
from hardening.tests.support import auth, check, iter_sse, make_admin_key, seed_tenant

pytestmark = [pytest.mark.e2e]

BODY_LIMIT = int(LIVE_LIMITS["MAX_JSON_BODY_BYTES"])
MAX_STREAMS = int(LIVE_LIMITS["MAX_CONCURRENT_STREAMS_PER_KEY"])


def assert_error(res: httpx.Response, status: int, type_: str) -> dict:
    assert res.status_code == status, f"{res.status_code}: {res.text[:500]}"
    assert res.headers["content-type"].startswith("application/json"), res.headers
    body = res.json()
    assert body["error"]["type"] == type_, body
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    return body


@pytest.fixture
def seeded(live):
    return seed_tenant(live, "limits", chat=False, scope_fields={"max_input_chars": 200})


@pytest.fixture
def client(live, seeded):
    with httpx.Client(base_url=live, headers=auth(seeded.key), timeout=30) as c:
        yield c


# --------------------------------------------------------------------------- body size
BODY_ROUTES = [
    ("POST", "/v1/chat"),
    ("POST", "/v1/bots"),
    ("POST", "/v1/retrieve"),
    ("POST", "/v1/openai/chat/completions"),
    ("POST", "/v1/datasets/{dataset_id}/documents"),
    ("PATCH", "/v1/bots/{bot_id}"),
]


def test_json_body_over_the_limit_is_413(client, seeded):
    big = "x" * (BODY_LIMIT + 1024)
    body = json.dumps({"bot": seeded.bot_slug, "message": big, "name": big, "text": big})
    wrong = []
    for method, path in BODY_ROUTES:
        res = client.request(
            method,
            path.format(**seeded.ids),
            content=body,
            headers={"Content-Type": "application/json"},
        )
        try:
            assert_error(res, 413, "payload_too_large")
        except AssertionError as exc:
            wrong.append(f"{method} {path}: {exc}")
    assert not wrong, "\n".join(wrong)


def test_json_body_under_the_limit_is_not_413(client, seeded):
    res = client.post("/v1/chat", json={"bot": seeded.bot_slug, "message": "x" * 100})
    assert res.status_code == 200, res.text


# --------------------------------------------------------------------------- message length
def test_message_longer_than_scope_max_input_chars_is_400(client, seeded, openai_stub):
    res = client.post("/v1/chat", json={"bot": seeded.bot_slug, "message": "y" * 201})
    body = assert_error(res, 400, "invalid_request")
    assert "200" in body["error"]["message"]
    with client.stream(
        "POST", "/v1/chat", json={"bot": seeded.bot_slug, "message": "y" * 201, "stream": True}
    ) as res:
        res.read()
        assert_error(res, 400, "invalid_request")
    assert openai_stub.chat_requests() == []
    ok = client.post("/v1/chat", json={"bot": seeded.bot_slug, "message": "y" * 200})
    assert ok.status_code == 200, ok.text


def test_openai_route_respects_max_input_chars(client, seeded, openai_stub):
    res = client.post(
        "/v1/openai/chat/completions",
        json={"model": seeded.bot_slug, "messages": [{"role": "user", "content": "z" * 201}]},
    )
    assert res.status_code == 400, res.text
    assert openai_stub.chat_requests() == []


# --------------------------------------------------------------------------- max_tokens
def test_bot_max_tokens_out_of_bounds_is_rejected(client, seeded):
    wrong = []
    for value in [0, -1, 16_385, 10**12, "many", 1.5, None, True, [], {}]:
        res = client.post("/v1/bots", json={"name": "t", "slug": "tok-bad", "max_tokens": value})
        if res.status_code != 400 or res.json()["error"]["type"] != "invalid_request":
            wrong.append(f"POST max_tokens={value!r}: {res.status_code} {res.text[:200]}")
        res = client.patch(f"/v1/bots/{seeded.ids['bot_id']}", json={"max_tokens": value})
        if res.status_code != 400:
            wrong.append(f"PATCH max_tokens={value!r}: {res.status_code} {res.text[:200]}")
    assert not wrong, "\n".join(wrong)


def test_bot_max_tokens_within_bounds_is_accepted(client, seeded):
    for value in (1, 16_384):
        created = check(
            client.post(
                "/v1/bots", json={"name": "t", "slug": f"tok-{value}", "max_tokens": value}
            ),
            201,
        )
        assert created["max_tokens"] == value
    res = client.patch(f"/v1/bots/{seeded.ids['bot_id']}", json={"max_tokens": 16_385})
    assert_error(res, 400, "invalid_request")


def test_bot_max_tokens_reaches_the_model(client, seeded, openai_stub):
    check(client.patch(f"/v1/bots/{seeded.ids['bot_id']}", json={"max_tokens": 77}), 200)
    check(client.post("/v1/chat", json={"bot": seeded.bot_slug, "message": "hotel?"}), 200)
    [request] = openai_stub.chat_requests()
    sent = request.body.get("max_tokens", request.body.get("max_completion_tokens"))
    assert sent == 77, request.body


# --------------------------------------------------------------------------- page size
LISTS = [
    "/v1/bots",
    "/v1/scopes",
    "/v1/datasets",
    "/v1/datasets/{dataset_id}/documents",
    "/v1/conversations",
    "/v1/api-keys",
]


def test_page_size_out_of_bounds_is_400(client, seeded):
    wrong = []
    for path in [*LISTS, "/v1/documents/{document_id}/chunks"]:
        for limit in ["1000", "101", "0", "-1", "abc", "1e3", "99999999999999999999", ""]:
            res = client.get(path.format(**seeded.ids), params={"limit": limit})
            try:
                assert_error(res, 400, "invalid_request")
            except AssertionError as exc:
                wrong.append(f"{path}?limit={limit}: {exc}")
    assert not wrong, "\n".join(wrong)


def test_page_size_100_is_fine(client, seeded):
    for path in [*LISTS, "/v1/documents/{document_id}/chunks"]:
        body = check(client.get(path.format(**seeded.ids), params={"limit": "100"}), 200)
        assert set(body) >= {"data", "next"}


# --------------------------------------------------------------------------- concurrent streams
def _open_stream(stack: contextlib.ExitStack, client: httpx.Client, bot: str):
    res = stack.enter_context(
        client.stream("POST", "/v1/chat", json={"bot": bot, "message": "hotel?", "stream": True})
    )
    if res.status_code != 200:
        res.read()
        return res, None
    events = iter_sse(res)
    first = next(events)
    assert first.event == "start", first
    return res, events


def _try_open(stack: contextlib.ExitStack, client: httpx.Client, bot: str, tries: int = 50):
    """Open a stream, retrying briefly while the server notices a closed one."""
    for _ in range(tries):
        res, events = _open_stream(stack, client, bot)
        if events is not None:
            return res, events
        time.sleep(0.1)
    return res, None


def test_concurrent_streams_per_key_are_capped_and_released(live, seeded, openai_stub):
    openai_stub.script.reply = "A slow answer " * 40
    openai_stub.script.token_delay = 0.05
    limits = httpx.Limits(max_connections=MAX_STREAMS + 5)
    with (
        httpx.Client(base_url=live, headers=auth(seeded.key), timeout=30, limits=limits) as client,
        contextlib.ExitStack() as stack,
    ):
        opened = [_open_stream(stack, client, seeded.bot_slug) for _ in range(MAX_STREAMS)]
        assert all(events is not None for _, events in opened), [r.status_code for r, _ in opened]
        # One more stream on the same key: refused while the others are open.
        over, events = _open_stream(stack, client, seeded.bot_slug)
        assert events is None
        assert_error(over, 429, "rate_limited")
        assert int(over.headers["Retry-After"]) >= 1
        # Another key of the same tenant is not affected.
        other_key, _ = make_admin_key(seeded.tenant, name="second")
        with (
            httpx.Client(base_url=live, headers=auth(other_key), timeout=30) as other,
            contextlib.ExitStack() as other_stack,
        ):
            _, other_events = _open_stream(other_stack, other, seeded.bot_slug)
            assert other_events is not None
        # The client goes away from one stream: its slot frees up.
        opened[0][0].close()
        _, again = _try_open(stack, client, seeded.bot_slug)
        assert again is not None, "a closed stream must release its slot"
    # Everything closed: the whole allowance is back (no leaked counters).
    with (
        httpx.Client(base_url=live, headers=auth(seeded.key), timeout=30, limits=limits) as client,
        contextlib.ExitStack() as stack,
    ):
        streams = [_try_open(stack, client, seeded.bot_slug) for _ in range(MAX_STREAMS)]
        assert all(ev is not None for _, ev in streams), "stream slots were not released"


def test_non_streaming_chats_finish_and_release_their_slot(client, seeded, openai_stub):
    for _ in range(MAX_STREAMS * 3):
        check(client.post("/v1/chat", json={"bot": seeded.bot_slug, "message": "hi"}), 200)
    for _ in range(MAX_STREAMS * 3):
        with client.stream(
            "POST", "/v1/chat", json={"bot": seeded.bot_slug, "message": "hi", "stream": True}
        ) as res:
            assert res.status_code == 200
            events = list(iter_sse(res))
            assert events[-1].event == "end"


# --------------------------------------------------------------------------- body ceiling
def _raw_request(base: str, head: str, body_chunks=(), read_timeout: float = 3.0):
    """Send ``head`` (and the chunks, stopping as soon as the server answers) on a raw socket;
    returns (status line + headers + body read, bytes of body sent)."""
    import select
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(base)
    sent = 0
    with socket.create_connection((parts.hostname, parts.port), timeout=read_timeout) as sock:
        sock.sendall(head.encode("latin-1"))
        # poll, not select(): select() refuses a descriptor numbered 1024 or more, which this
        # socket gets when the test process holds many files (the whole suite before it).
        answered = select.poll()
        answered.register(sock, select.POLLIN)
        for chunk in body_chunks:
            if answered.poll(0):
                break  # answered already
            try:
                sock.sendall(chunk)
            except OSError:
                break
            sent += len(chunk)
        data = b""
        deadline = time.monotonic() + read_timeout
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            if time.monotonic() > deadline:
                break
            try:
                more = sock.recv(65536)
            except OSError:
                break
            if not more:
                break
            data += more
    return data, sent


@pytest.mark.parametrize(
    "path", ["/v1/datasets/00000000-0000-4000-8000-000000000000/documents", "/v1/chat", "/admin/"]
)
def test_declared_body_over_the_ceiling_is_413_before_it_is_read(live, path):
    """A client declaring a 5 GB body gets its 413 at once; the server reads none of it (Django
    used to spool the whole body to disk before any check)."""
    t0 = time.monotonic()
    data, _ = _raw_request(
        live,
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 5000000000\r\n\r\n",
    )
    assert data.startswith(b"HTTP/1.1 413"), data[:200]
    assert time.monotonic() - t0 < 2.5
    body = json.loads(data.split(b"\r\n\r\n", 1)[1])
    assert body["error"]["type"] == "payload_too_large"
    assert body["error"]["details"]["max_bytes"] == int(LIVE_LIMITS["MAX_REQUEST_BODY_BYTES"])


def test_chunked_body_is_cut_off_at_the_ceiling(live):
    ceiling = int(LIVE_LIMITS["MAX_REQUEST_BODY_BYTES"])
    piece = b"x" * 65536
    chunk = b"%x\r\n" % len(piece) + piece + b"\r\n"
    data, sent = _raw_request(
        live,
        "POST /v1/bots HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n",
        body_chunks=[chunk] * (20 * ceiling // len(piece)),
    )
    assert data.startswith(b"HTTP/1.1 413"), data[:200]
    # Answered and closed near the ceiling, not after the whole body (what was sent past the
    # ceiling sat in the two sockets' kernel buffers, a few MB on loopback).
    assert sent < 10 * ceiling


def test_body_under_the_ceiling_still_reaches_the_route(client, seeded):
    """An upload under the ceiling is the route's to judge (here: not a valid file)."""
    res = client.post(
        f"/v1/datasets/{seeded.ids['dataset_id']}/documents",
        files={"file": ("notes.txt", b"hello " * 1000, "text/plain")},
    )
    assert res.status_code in (200, 201, 202), res.text
