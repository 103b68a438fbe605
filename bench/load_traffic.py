"""bench/load.py's traffic and its summary: open-loop arrivals at a fixed rate (latency counted
from the scheduled start, so a slow server cannot slow the generator down and hide its own
queueing) of 60% chat (half JSON, half SSE read to the `end` event), 20% POST /v1/retrieve and
20% reads; then percentiles per step and per kind, and whether the step passed (p99 < 1 s, no
5xx, 4xx or transport error).
"""

from __future__ import annotations

import asyncio
import random
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx

from bench.load_setup import World

P99_LIMIT = 1.0


# --------------------------------------------------------------------------- load
@dataclass
class Sample:
    kind: str
    latency: float
    status: int  # 0 = transport error / timeout


def pick(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.30:
        return "chat"
    if r < 0.60:
        return "chat_stream"
    if r < 0.80:
        return "retrieve"
    return "read"


async def one(client: httpx.AsyncClient, world: World, kind: str, rng: random.Random) -> int:
    headers = {"Authorization": f"Bearer {rng.choice(world.keys)}"}
    question = rng.choice(world.questions)
    if kind == "chat":
        res = await client.post(
            "/v1/chat", json={"bot": world.bot, "message": question}, headers=headers
        )
        return res.status_code
    if kind == "chat_stream":
        body = {"bot": world.bot, "message": question, "stream": True}
        async with client.stream("POST", "/v1/chat", json=body, headers=headers) as res:
            ended = False
            async for line in res.aiter_lines():
                if line.startswith("event: end"):
                    ended = True
                elif line.startswith("event: error"):
                    return 599  # an error event counts as a server failure
            return res.status_code if ended or res.status_code != 200 else 598
    if kind == "retrieve":
        res = await client.post(
            "/v1/retrieve", json={"bot": world.bot, "query": question}, headers=headers
        )
        return res.status_code
    path = rng.choice(
        [
            "/v1/bots",
            "/v1/conversations?limit=20",
            f"/v1/conversations/{rng.choice(world.conversation_ids)}",
            f"/v1/datasets/{world.dataset_id}/documents?limit=20",
        ]
    )
    res = await client.get(path, headers=headers)
    return res.status_code


async def run_rate(world: World, rate: float, seconds: float, seed: int) -> list[Sample]:
    rng = random.Random(seed)
    samples: list[Sample] = []
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=200)
    timeout = httpx.Timeout(30.0)
    async with httpx.AsyncClient(base_url=world.base, limits=limits, timeout=timeout) as client:
        loop = asyncio.get_running_loop()
        t0 = loop.time() + 0.05
        total = int(rate * seconds)
        tasks = []

        async def fire(scheduled: float, kind: str) -> None:
            try:
                status = await one(client, world, kind, rng)
            except (httpx.HTTPError, OSError):
                status = 0
            samples.append(Sample(kind, loop.time() - scheduled, status))

        for i in range(total):
            scheduled = t0 + i / rate
            delay = scheduled - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(fire(scheduled, pick(rng))))
        await asyncio.gather(*tasks)
    return samples


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def summarise(samples: list[Sample], rate: float, seconds: float) -> dict[str, Any]:
    lat = [s.latency for s in samples]
    out: dict[str, Any] = {
        "rate": rate,
        "seconds": seconds,
        "requests": len(samples),
        "throughput": round(len(samples) / seconds, 1),
        "p50_ms": round(pct(lat, 0.50) * 1000, 1),
        "p95_ms": round(pct(lat, 0.95) * 1000, 1),
        "p99_ms": round(pct(lat, 0.99) * 1000, 1),
        "max_ms": round(max(lat) * 1000, 1) if lat else None,
        "mean_ms": round(statistics.fmean(lat) * 1000, 1) if lat else None,
        "5xx": sum(1 for s in samples if s.status >= 500),
        "transport_errors": sum(1 for s in samples if s.status == 0),
        "4xx": sum(1 for s in samples if 400 <= s.status < 500),
        "by_kind": {},
        "statuses": dict(sorted(Counter(s.status for s in samples).items())),
    }
    for kind in ("chat", "chat_stream", "retrieve", "read"):
        k = [s.latency for s in samples if s.kind == kind]
        if k:
            out["by_kind"][kind] = {
                "n": len(k),
                "p50_ms": round(pct(k, 0.5) * 1000, 1),
                "p95_ms": round(pct(k, 0.95) * 1000, 1),
                "p99_ms": round(pct(k, 0.99) * 1000, 1),
            }
    out["ok"] = (
        out["p99_ms"] < P99_LIMIT * 1000
        and out["5xx"] == 0
        and out["transport_errors"] == 0
        and out["4xx"] == 0
    )
    return out


def line(s: dict[str, Any]) -> str:
    return (
        f"rate {s['rate']:6.1f}/s  n={s['requests']:5d}  p50 {s['p50_ms']:7.1f} ms  "
        f"p95 {s['p95_ms']:7.1f} ms  p99 {s['p99_ms']:7.1f} ms  5xx {s['5xx']}  "
        f"errors {s['transport_errors']}  4xx {s['4xx']}  {'ok' if s['ok'] else 'FAIL'}"
        + ("" if s["ok"] else f"  statuses {s['statuses']}")
    )
