"""The event loop's lean Redis client for Lua scripts (``chatbot_project.redis_lane``): the same
results and errors as redis-py's scripts, replies matched to callers in order (also when callers
are cancelled), reconnection after a drop, timeouts, and the connection set-up (AUTH, SELECT)."""

from __future__ import annotations

import asyncio

import pytest
import redis
from django.conf import settings

from chatbot_project import redis_client, redis_lane

ECHO = "return {tonumber(ARGV[1]), ARGV[2], false, {KEYS[1], 7}}"
FAIL = "return redis.error_reply('ERR made to fail')"
GET = "return redis.call('GET', KEYS[1])"


def _run(coro_fn):
    return asyncio.run(coro_fn())


def test_loop_script_uses_the_lane_and_answers_like_redis_py():
    async def main():
        lane = redis_client.loop_script(ECHO)
        assert isinstance(lane, redis_lane.Script)
        ours = await lane(keys=["k1"], args=[5, "héllo"])
        theirs = await redis_client.loop_redis().register_script(ECHO)(
            keys=["k1"], args=[5, "héllo"]
        )
        return ours, theirs

    ours, theirs = _run(main)
    assert ours == theirs == [5, "héllo".encode(), None, [b"k1", 7]]


def test_redis_lane_off_keeps_redis_pys_client(settings):
    settings.REDIS_LANE = False

    async def main():
        return redis_client.loop_script(ECHO)

    assert not isinstance(_run(main), redis_lane.Script)


def test_values_are_encoded_as_redis_py_encodes_them():
    async def main():
        script = redis_client.loop_script("return ARGV")
        return await script(keys=[], args=[1, -2, 1.5, 1e-7, "x", b"\x00\xff", ""])

    assert _run(main) == [b"1", b"-2", b"1.5", b"1e-07", b"x", b"\x00\xff", b""]


def test_unknown_script_falls_back_to_eval_after_a_flush():
    redis_client.get_redis().script_flush()

    async def main():
        return await redis_client.loop_script("return 41 + 1")(keys=[], args=[])

    assert _run(main) == 42


def test_a_script_error_is_a_response_error_and_the_next_call_stays_in_step():
    async def main():
        fail = redis_client.loop_script(FAIL)
        echo = redis_client.loop_script(ECHO)
        with pytest.raises(redis.exceptions.ResponseError, match="made to fail"):
            await fail(keys=[], args=[])
        return await echo(keys=["a"], args=[1, "b"])

    assert _run(main)[:2] == [1, b"b"]


def test_many_callers_at_once_each_get_their_own_reply():
    async def main():
        echo = redis_client.loop_script(ECHO)
        got = await asyncio.gather(*(echo(keys=[f"k{i}"], args=[i, f"v{i}"]) for i in range(500)))
        return got

    got = _run(main)
    assert [g[0] for g in got] == list(range(500))
    assert [g[3][0] for g in got] == [f"k{i}".encode() for i in range(500)]


def test_a_cancelled_caller_does_not_shift_the_replies():
    async def main():
        echo = redis_client.loop_script(ECHO)
        await echo(keys=["warm"], args=[0, "x"])  # connected
        first = asyncio.ensure_future(echo(keys=["gone"], args=[1, "gone"]))
        await asyncio.sleep(0)  # sent
        first.cancel()
        second = await echo(keys=["kept"], args=[2, "kept"])
        return first.cancelled(), second

    cancelled, second = _run(main)
    assert cancelled
    assert second[:2] == [2, b"kept"]


def test_a_dropped_connection_fails_pending_calls_and_the_next_call_reconnects():
    async def main():
        echo = redis_client.loop_script(ECHO)
        await echo(keys=["a"], args=[1, "a"])
        protocol = echo.client._protocol
        pending = asyncio.ensure_future(echo(keys=["b"], args=[2, "b"]))
        await asyncio.sleep(0)
        protocol.transport.abort()  # as if Redis restarted
        with pytest.raises(redis.exceptions.ConnectionError):
            await pending
        again = await echo(keys=["c"], args=[3, "c"])
        return again, echo.client._protocol is not protocol

    again, new_connection = _run(main)
    assert again[:2] == [3, b"c"]
    assert new_connection


def test_selects_the_urls_database():
    db = int(settings.REDIS_URL.rsplit("/", 1)[1])
    assert db != 0
    sync = redis_client.get_redis()
    sync.set("test-lane-db", "in-test-db", ex=30)

    async def main():
        return await redis_client.loop_script(GET)(keys=["test-lane-db"], args=[])

    assert _run(main) == b"in-test-db"


_writers: list[asyncio.StreamWriter] = []  # the fake server's side of each connection


async def _fake_redis(replies: dict[bytes, bytes], seen: list[bytes]):
    """A socket speaking just enough RESP: answers commands whose name is in ``replies``
    (AUTH, SELECT...), never answers the others."""

    async def handle(reader, writer):
        _writers.append(writer)
        while True:
            head = await reader.readline()
            if not head:
                writer.close()
                return
            parts = []
            for _ in range(int(head[1:])):
                size = int((await reader.readline())[1:])
                parts.append((await reader.readexactly(size + 2))[:-2])
            seen.append(b" ".join(parts))
            if parts[0] in replies:
                writer.write(replies[parts[0]])
                await writer.drain()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_auth_and_select_are_sent_first(monkeypatch):
    seen: list[bytes] = []

    async def main():
        server, port = await _fake_redis({b"AUTH": b"+OK\r\n", b"SELECT": b"+OK\r\n",
                                          b"EVALSHA": b":7\r\n"}, seen)  # fmt: skip
        async with server:
            client = redis_lane.LoopClient(f"redis://bob:s3cret@127.0.0.1:{port}/4")
            return await redis_lane.Script(client, "return 7")(keys=[], args=[])

    assert _run(main) == 7
    assert seen[:2] == [b"AUTH bob s3cret", b"SELECT 4"]
    assert seen[2].startswith(b"EVALSHA ")


def test_a_refused_auth_is_a_response_error_and_its_socket_is_closed():
    """A wrong password: the caller gets Redis's error, and the half-set-up connection is not
    left open (each later call would otherwise leak one)."""
    seen: list[bytes] = []
    closed = []

    async def main():
        server, port = await _fake_redis({b"AUTH": b"-WRONGPASS invalid password\r\n"}, seen)
        async with server:
            client = redis_lane.LoopClient(f"redis://bob:nope@127.0.0.1:{port}/0")
            for _ in range(2):
                with pytest.raises(redis.exceptions.ResponseError, match="WRONGPASS"):
                    await redis_lane.Script(client, "return 1")()
            await asyncio.sleep(0.1)  # the server's handlers see their sockets closed
            closed.append(all(w.is_closing() for w in _writers))

    _writers.clear()
    _run(main)
    assert seen == [b"AUTH bob nope", b"AUTH bob nope"]  # no script sent after a refused AUTH
    assert closed == [True]


def test_an_overdue_reply_is_a_timeout(monkeypatch):
    monkeypatch.setattr(redis_lane, "REPLY_TIMEOUT", 0.2)

    async def main():
        server, port = await _fake_redis({}, [])
        async with server:
            client = redis_lane.LoopClient(f"redis://127.0.0.1:{port}/0")
            with pytest.raises(redis.exceptions.TimeoutError):
                await asyncio.wait_for(redis_lane.Script(client, "return 1")(), 5)

    _run(main)


def test_nothing_listening_is_a_connection_error():
    async def main():
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        client = redis_lane.LoopClient(f"redis://127.0.0.1:{port}/0")
        with pytest.raises(redis.exceptions.ConnectionError):
            await redis_lane.Script(client, "return 1")()

    _run(main)


@pytest.mark.parametrize(
    "data",
    [b":12\r\n", b"$3\r\nabc\r\n", b"$-1\r\n", b"*2\r\n:1\r\n*1\r\n$1\r\nz\r\n", b"+OK\r\n"],
)
def test_replies_split_anywhere_are_parsed_once_complete(data):
    expected, end = redis_lane._parse(data, 0)
    assert end == len(data)
    for cut in range(len(data)):
        with pytest.raises(redis_lane._Incomplete):
            redis_lane._parse(data[:cut], 0)
    assert redis_lane._parse(data + b":5\r\n", 0) == (expected, len(data))
