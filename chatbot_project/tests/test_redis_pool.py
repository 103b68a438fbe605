"""Redis pools wait for a free connection instead of failing: redis-py's own pools stop at 100
connections and then raise "Too many connections", which under load (an event loop with over
100 commands in flight) failed chats' rate-limit hits and slot releases."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from chatbot_project import redis_client


def _blocking_pops(n: int) -> list:
    async def main() -> list:
        client = redis_client.loop_redis()
        # BLPOP on an empty list holds its connection for the whole 0.2 s.
        return await asyncio.gather(
            *(client.blpop([f"test-pool-empty-{i}"], timeout=0.2) for i in range(n))
        )

    return asyncio.run(main())


def test_more_commands_in_flight_than_redis_pys_default_pool(settings):
    assert settings.REDIS_MAX_CONNECTIONS > 150
    assert _blocking_pops(150) == [None] * 150


def test_a_full_pool_makes_callers_wait_not_fail(settings):
    settings.REDIS_MAX_CONNECTIONS = 5
    assert _blocking_pops(20) == [None] * 20  # four rounds of five


def test_the_threads_pool_waits_too(settings):
    settings.REDIS_MAX_CONNECTIONS = 3
    redis_client.get_redis.cache_clear()
    try:
        client = redis_client.get_redis()
        barrier = threading.Barrier(9)

        def pop(i: int):
            barrier.wait()
            return client.blpop([f"test-pool-empty-{i}"], timeout=0.2)

        with ThreadPoolExecutor(9) as pool:
            assert list(pool.map(pop, range(9))) == [None] * 9
        assert client.connection_pool.max_connections == 3
    finally:
        redis_client.get_redis.cache_clear()


def test_new_connections_share_one_driver_info():
    """A new connection used to look redis-py's version up in the package metadata (0.4 ms of
    the event loop each); they now share one DriverInfo (sent with CLIENT SETINFO on Redis 7.2+)."""

    async def main() -> list:
        client = redis_client.loop_redis()
        await asyncio.gather(
            *(client.blpop([f"test-pool-info-{i}"], timeout=0.05) for i in range(3))
        )
        pool = client.connection_pool
        made = list(pool._available_connections) + list(pool._in_use_connections)
        return made

    made = asyncio.run(main())
    assert len(made) >= 3
    assert len({id(c.driver_info) for c in made}) == 1
    sync_conn = redis_client.get_redis().connection_pool.make_connection()
    assert sync_conn.driver_info is made[0].driver_info
    assert made[0].driver_info.formatted_name == "redis-py"
