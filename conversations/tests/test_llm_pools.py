"""Upstream connection pools: filled in order (a quiet server reuses one pool's keep-alive
connections), never more than SHARD_FILL streams in a pool while another has room."""

from __future__ import annotations

from conversations import llm


def test_pools_fill_in_order_and_free_slots_are_reused():
    pools = llm._Pools()
    taken = [pools.acquire()[0] for _ in range(llm.SHARD_FILL + 3)]
    assert taken[: llm.SHARD_FILL] == [0] * llm.SHARD_FILL
    assert taken[llm.SHARD_FILL :] == [1, 1, 1]
    pools.release(0)
    assert pools.acquire()[0] == 0  # the first pool with room, not round robin
    assert pools.clients[2] is None  # pools are made only when needed


def test_when_every_pool_is_full_the_least_busy_one_is_used():
    pools = llm._Pools()
    pools.active = [llm.SHARD_FILL + 1] * llm.POOL_SHARDS
    pools.active[6] = llm.SHARD_FILL
    shard, client = pools.acquire()
    assert shard == 6
    assert client is not None
