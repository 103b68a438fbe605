"""Connections kept per event loop (the lean Redis lane, redis-py's asyncio pool, the upstream
keep-alive pool) are closed when their loop is: tests and management commands run a fresh loop
per ``async_to_sync``/``asyncio.run``, and the test process used to end holding over 1,024
sockets of dead loops (``chatbot_project.loop_resources``)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys

import pytest
from asgiref.sync import async_to_sync

from chatbot_project import loop_resources, redis_client
from conversations import llm, upstream_http

# A keep-alive HTTP/1.1 upstream in its own process (its sockets are not counted here).
SERVER = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"""


@pytest.fixture
def upstream():
    proc = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        yield f"http://127.0.0.1:{int(proc.stdout.readline())}/v1"
    finally:
        proc.kill()
        proc.wait()


def _sockets() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor, closed by now
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    return count


def test_fresh_loops_do_not_leave_their_sockets_open(upstream):
    async def use_every_kind() -> None:
        assert await redis_client.loop_script("return 7")(keys=[], args=[]) == 7
        assert await redis_client.loop_redis().ping()
        pool = upstream_http.loop_pool(upstream, 5.0, None)
        response = await pool.post("chat", b"{}", {})
        assert b"".join([block async for block in response.aiter_bytes()]) == b"ok"
        await response.aclose()  # read to its end: kept idle for reuse on this loop
        assert len(pool.idle) == 1

    async_to_sync(use_every_kind)()  # the first loop: what one loop keeps open
    before = _sockets()
    for _ in range(20):
        async_to_sync(use_every_kind)()
    for _ in range(5):
        asyncio.run(use_every_kind())
    # Each new loop closed the ones before it: only the last loop's connections are open.
    assert _sockets() <= before
    assert len(loop_resources._state) <= 1


def test_fresh_loops_do_not_leave_their_httpx_pools_open(upstream, settings):
    """The chat model's httpx pools (used behind a proxy or with LLM_HTTP_CLIENT=httpx)."""
    settings.OPENAI_BASE_URL = upstream

    async def use_httpx() -> None:
        pools = llm._loop_pools()
        shard, client = pools.acquire()
        response = await client.post("chat", content=b"{}")
        assert response.content == b"ok"  # read: the connection kept for reuse
        pools.release(shard)

    async_to_sync(use_httpx)()
    before = _sockets()
    for _ in range(20):
        async_to_sync(use_httpx)()
    assert _sockets() <= before


def test_a_closed_loops_transport_is_closed_without_the_loop():
    listener = socket.create_server(("127.0.0.1", 0))
    loop = asyncio.new_event_loop()
    transport, _ = loop.run_until_complete(
        loop.create_connection(asyncio.Protocol, *listener.getsockname())
    )
    loop.close()
    sock = transport.get_extra_info("socket")
    assert sock.fileno() >= 0  # transport.close() cannot close it now: the loop is gone
    loop_resources.close_transport(transport)
    assert sock.fileno() == -1
    listener.close()
