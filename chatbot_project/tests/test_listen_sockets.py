"""The uvicorn server listens on LISTEN_SOCKETS sockets sharing its port (serve.listening_sockets):
libuv accepts one connection per listening socket per turn of the event loop, so with one socket
a busy loop (~2,000 open streams: 10-30 ms a turn) let in only ~30-100 new connections a second
and the rest waited in the kernel's accept queue for seconds."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time

import httpx
import pytest
import uvloop

from chatbot_project.serve import listening_sockets
from chatbot_project.testing.processes import BASE_DIR, child_env, free_port, start_server, stop


def _accepted_in_busy_turns(sockets: list[socket.socket], port: int, turns: int) -> int:
    """Connections accepted by a uvloop loop whose every turn takes 20 ms, with 40 waiting."""
    accepted: list[int] = []

    class Counting(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted.append(1)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sock in sockets:
            await loop.create_server(Counting, sock=sock, backlog=128)
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
        for _ in range(turns):
            time.sleep(0.02)  # a turn's work (blocking on purpose)
            await asyncio.sleep(0)
        for c in clients:
            c.close()

    uvloop.run(main())
    for sock in sockets:
        sock.close()
    return len(accepted)


def test_several_sockets_let_a_busy_loop_accept_more_than_one_connection_a_turn():
    port = free_port()
    sockets = listening_sockets("127.0.0.1", port, 8)
    assert sockets is not None
    assert len(sockets) == 8
    assert {s.getsockname()[1] for s in sockets} == {port}
    assert _accepted_in_busy_turns(sockets, port, turns=3) > 3


def test_every_address_of_the_host_name_is_bound():
    port = free_port()
    expected = {
        info[4][0] for info in socket.getaddrinfo("localhost", port, type=socket.SOCK_STREAM)
    }
    sockets = listening_sockets("localhost", port, 2)
    try:
        assert {s.getsockname()[0] for s in sockets} == expected
        assert len(sockets) == 2 * len(expected)
    finally:
        for s in sockets:
            s.close()


def test_one_socket_is_left_to_uvicorn():
    assert listening_sockets("127.0.0.1", free_port(), 1) is None


def test_a_port_in_use_is_refused_not_shared():
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            listening_sockets("127.0.0.1", port, 8)


@pytest.mark.django_db(transaction=True)
def test_the_server_answers_and_a_second_one_on_its_port_is_refused():
    proc, base = start_server(LISTEN_SOCKETS="4")
    try:
        for _ in range(20):  # new connections each time, spread over the sockets
            assert httpx.get(f"{base}/v1/health", timeout=10).status_code == 200
        port = base.rsplit(":", 1)[1]
        second = subprocess.run(
            [sys.executable, "-m", "chatbot_project.serve"], cwd=BASE_DIR,
            env=child_env(PORT=port, HOST="127.0.0.1", LISTEN_SOCKETS="4"),
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert second.returncode == 1
        assert f"Cannot listen on 127.0.0.1:{port}" in second.stderr
        assert "in use" in second.stderr
    finally:
        stop(proc)
