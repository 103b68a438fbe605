"""The lean upstream HTTP client (conversations/upstream_http.py) through the OpenAI provider:
real sockets, the real stub, and small asyncio servers for the framings and failures the stub
does not produce."""

from __future__ import annotations

import asyncio
import json

import pytest

from chatbot_project.testing.openai_stub import Script
from conversations import llm, upstream_http

MESSAGES = [{"role": "user", "content": "hi"}]


async def _chunks() -> list[llm.LLMChunk]:
    stream = llm.OpenAIProvider().stream(
        messages=MESSAGES, model="m", temperature=0.0, max_tokens=50, sources=[], question="hi"
    )
    return [chunk async for chunk in stream]


def _answer(base_url: str, settings, **overrides) -> tuple[str, list[llm.LLMChunk]]:
    settings.OPENAI_BASE_URL = base_url
    settings.OPENAI_API_KEY = "sk-test"
    for name, value in overrides.items():
        setattr(settings, name, value)
    chunks = asyncio.run(_chunks())
    return "".join(c.text for c in chunks), chunks


def _sse(*tokens: str) -> bytes:
    events = [
        {"choices": [{"index": 0, "delta": {"content": t}, "finish_reason": None}]} for t in tokens
    ]
    events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    body = b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events)
    return body + b"data: [DONE]\n\n"


class RawServer:
    """An asyncio server in its own thread whose ``handler(reader, writer)`` writes raw bytes."""

    def __init__(self, handler) -> None:
        import threading

        self.handler, self.connections = handler, 0
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def start() -> None:
            self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
            self.port = self.server.sockets[0].getsockname()[1]
            ready.set()

        self.thread = threading.Thread(
            target=lambda: (self.loop.run_until_complete(start()), self.loop.run_forever()),
            daemon=True,
        )
        self.thread.start()
        ready.wait(5)

    async def _serve(self, reader, writer) -> None:
        self.connections += 1
        try:
            await self.handler(reader, writer)
        finally:
            writer.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


async def _read_request(reader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    return head + await reader.readexactly(length)


@pytest.fixture
def raw_server():
    servers: list[RawServer] = []

    def make(handler) -> RawServer:
        servers.append(RawServer(handler))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def test_stub_answer_over_the_lean_client(openai_stub, settings):
    openai_stub.script = Script(reply="Use AnonRateThrottle [1].")
    text, chunks = _answer(openai_stub.base_url, settings)
    assert text == "Use AnonRateThrottle [1]."
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage["completion_tokens"] > 0
    request = openai_stub.chat_requests()[-1]
    assert {k.lower(): v for k, v in request.headers.items()}["authorization"] == "Bearer sk-test"
    assert request.body["stream"] is True
    assert request.body["messages"] == MESSAGES


def test_httpx_is_used_when_forced_or_behind_a_proxy(openai_stub, settings, monkeypatch):
    settings.OPENAI_BASE_URL = "https://api.example.com/v1"
    assert llm._http_client() == "lean"
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert llm._http_client() == "httpx"
    monkeypatch.setenv("NO_PROXY", "api.example.com")
    assert llm._http_client() == "lean"
    openai_stub.script = Script(reply="Same answer over httpx.")
    text, _ = _answer(openai_stub.base_url, settings, LLM_HTTP_CLIENT="httpx")
    assert text == "Same answer over httpx."


def test_unreachable_upstream_is_a_clear_llm_error(settings):
    from chatbot_project.testing.processes import free_port

    with pytest.raises(llm.LLMError, match="could not be reached"):
        _answer(f"http://127.0.0.1:{free_port()}/v1", settings)


def test_silent_upstream_times_out(openai_stub, settings):
    openai_stub.script = Script(reply="late", first_token_delay=2.0)
    with pytest.raises(llm.LLMError, match="did not answer in time"):
        _answer(openai_stub.base_url, settings, LLM_TIMEOUT_SECONDS=0.3)


def test_content_length_and_byte_by_byte_chunked_bodies(raw_server, settings):
    body = _sse("Hello", " there")

    async def content_length(reader, writer) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()

    async def trickled_chunks(reader, writer) -> None:
        await _read_request(reader)
        half = len(body) // 2
        wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        for part in (body[:half], body[half:]):
            wire += b"%x;ext=1\r\n" % len(part) + part + b"\r\n"
        wire += b"0\r\nX-Trailer: t\r\n\r\n"
        for i in range(len(wire)):
            writer.write(wire[i : i + 1])
            await writer.drain()

    for handler in (content_length, trickled_chunks):
        text, chunks = _answer(raw_server(handler).base_url, settings)
        assert text == "Hello there"
        assert chunks[-1].finish_reason == "stop"


def test_reused_connection_closed_by_the_server_is_retried_once(raw_server, settings):
    """Keep-alive is assumed (HTTP/1.1, no Connection: close), but the server closes each
    connection after one answer: the second chat's request meets a closed socket and is sent
    again on a new connection."""
    body = _sse("ok")

    async def one_answer_per_connection(reader, writer) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()

    server = raw_server(one_answer_per_connection)
    settings.OPENAI_BASE_URL = server.base_url
    settings.OPENAI_API_KEY = "sk-test"

    async def two_chats() -> list[str]:
        texts = []
        for _ in range(2):
            texts.append("".join(c.text for c in await _chunks()))
            await asyncio.sleep(0.05)  # the server's close reaches us
        return texts

    assert asyncio.run(two_chats()) == ["ok", "ok"]
    assert server.connections == 2


def test_not_http_and_cut_bodies_are_llm_errors(raw_server, settings):
    async def garbage(reader, writer) -> None:
        await _read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        await writer.drain()

    async def cut(reader, writer) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + _sse("partial"))
        await writer.drain()

    for handler in (garbage, cut):
        with pytest.raises(llm.LLMError):
            _answer(raw_server(handler).base_url, settings)


def test_origin_parsing():
    origin = upstream_http.Origin.parse("https://api.openai.com/v1/")
    assert (origin.scheme, origin.host, origin.port, origin.prefix) == (
        "https", "api.openai.com", 443, "/v1/"
    )  # fmt: skip
    assert origin.host_header == "api.openai.com"
    local = upstream_http.Origin.parse("http://[::1]:8900")
    assert (local.host, local.port, local.prefix) == ("::1", 8900, "/")
    assert local.host_header == "[::1]:8900"
    with pytest.raises(ValueError):
        upstream_http.Origin.parse("ftp://example.com/")


def test_slow_tokens_within_the_timeout_do_not_time_out(openai_stub, settings):
    """The read timeout is per read (each gap < timeout), not for the whole answer."""
    openai_stub.script = Script(reply="one two three four five", token_delay=0.15)
    text, _ = _answer(openai_stub.base_url, settings, LLM_TIMEOUT_SECONDS=0.4)
    assert text == "one two three four five"
