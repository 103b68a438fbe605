"""Bounded load test on loopback: the highest request rate one server process + one Celery worker
sustain with p99 < 1 s and zero 5xx, then that rate held for 2 minutes.

    .venv/bin/python bench/load.py [--server uvicorn|daphne] [--step-seconds 20]
        [--hold-seconds 120] [--start-rate 4] [--rate-step 4] [--max-rate 400] [--docs 20]

What it does (and it always stops by itself: at most max-rate/rate-step steps, then one hold):
1. A fresh database ``bench_load`` on the embedded PostgreSQL (or DATABASE_URL) and Redis db 13
   (or REDIS_URL), migrated; a tenant and 8 API keys via the management commands.
2. One ASGI server (``python -m chatbot_project.serve``, production settings: DEBUG off) and one
   Celery worker (``--concurrency 1``), the offline extractive model and the local embedder: no
   network. The first ``--docs`` files of the DRF docs corpus are ingested through the API.
3. Open-loop traffic (arrivals at a fixed rate, latency counted from the scheduled start, so a
   slow server cannot slow the generator down and hide its own queueing): 60% chat (half JSON,
   half SSE read to the `end` event), 20% POST /v1/retrieve, 20% reads (bots, conversations,
   one conversation with messages, a dataset's documents). Questions come from
   ``drf-qa-dev.jsonl``.
4. Steps of ``--step-seconds`` at increasing rates until p99 >= 1 s or any 5xx/transport error;
   the best passing rate is then held for ``--hold-seconds`` and reported (p50/p95/p99, per kind).

Everything runs on this machine (2 cores): the load generator shares them with the server, the
worker, PostgreSQL and Redis, so the figures are a floor for a dedicated server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
CORPUS = BASE_DIR.parent / "shared" / "corpus"
PY = sys.executable
DB_NAME = "bench_load"
KEYS = 8
P99_LIMIT = 1.0


# --------------------------------------------------------------------------- environment
def bench_env(server: str) -> dict[str, str]:
    env = dict(os.environ)
    if not env.get("DATABASE_URL") or not env.get("REDIS_URL"):
        from chatbot_project import embedded

        if not env.get("DATABASE_URL"):
            info = embedded.ensure_postgres()
            _recreate_database(info.url("postgres"))
            env["DATABASE_URL"] = info.url(DB_NAME)
        if not env.get("REDIS_URL"):
            port, _ = embedded.ensure_redis()
            env["REDIS_URL"] = f"redis://127.0.0.1:{port}/13"
    env.update(
        DJANGO_SETTINGS_MODULE="chatbot_project.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        CHAT_PROVIDER="extractive",
        CHAT_MODEL="extractive",
        OPENAI_API_KEY="",
        EMBEDDING_PROVIDER="local",
        ASGI_SERVER=server,
        HOST="127.0.0.1",
        LOG_LEVEL="WARNING",
        RATE_LIMIT_DEFAULT="9999999/m",
        PYTHONUNBUFFERED="1",
    )
    env.pop("TESTING", None)
    return env


def _recreate_database(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}" TEMPLATE template1')


def manage(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [PY, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        cmd,
        cwd=BASE_DIR,
        env=env,
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise TimeoutError("the server did not start")


# --------------------------------------------------------------------------- seeding
@dataclass
class World:
    base: str
    keys: list[str]
    bot: str
    dataset_id: str
    conversation_ids: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)


def seed(env: dict[str, str], base: str, docs: int, worker_alive: Any = None) -> World:
    manage(env, "create_tenant", "bench", "--name", "Load bench")
    keys = [
        manage(
            env, "create_api_key", "--tenant", "bench", "--name", f"load-{i}",
            "--permissions", "chat,read,write,admin", "--rate-limit", "9999999/m",
        ).strip().splitlines()[-1]
        for i in range(KEYS)
    ]  # fmt: skip
    files = sorted((CORPUS / "drf-docs" / "api-guide").glob("*.md"))[:docs]
    questions = [
        json.loads(line)["question"]
        for line in (CORPUS / "drf-qa-dev.jsonl").read_text().splitlines()
        if line.strip()
    ]
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {keys[0]}"}, timeout=120
    ) as c:
        dataset = c.post("/v1/datasets", json={"name": "DRF docs"}).raise_for_status().json()
        doc_ids = []
        for path in files:
            res = c.post(
                f"/v1/datasets/{dataset['id']}/documents",
                files={"file": (path.name, path.read_bytes(), "text/markdown")},
                data={"title": path.stem},
            )
            res.raise_for_status()
            doc_ids.append(res.json()["id"])
        started = time.monotonic()
        for doc_id in doc_ids:
            while True:
                doc = c.get(f"/v1/documents/{doc_id}").raise_for_status().json()
                if doc["status"] in {"ready", "failed"}:
                    break
                if time.monotonic() - started > 900:
                    raise TimeoutError("ingestion took longer than 15 minutes")
                if worker_alive is not None:
                    worker_alive()
                time.sleep(0.5)
        print(f"ingested {len(doc_ids)} documents in {time.monotonic() - started:.1f} s")
        c.post(
            "/v1/bots",
            json={"name": "Docs", "slug": "docs", "datasets": [dataset["id"]]},
        ).raise_for_status()
        conversations = []
        for q in questions[:5]:
            r = c.post("/v1/chat", json={"bot": "docs", "message": q}).raise_for_status()
            conversations.append(r.json()["conversation_id"])
    return World(base, keys, "docs", dataset["id"], conversations, questions)


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=["uvicorn", "daphne"], default="uvicorn")
    parser.add_argument("--step-seconds", type=float, default=20)
    parser.add_argument("--hold-seconds", type=float, default=120)
    parser.add_argument("--start-rate", type=float, default=4)
    parser.add_argument("--rate-step", type=float, default=4)
    parser.add_argument("--max-rate", type=float, default=400)
    parser.add_argument("--docs", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    logs = BASE_DIR / ".data" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    env = bench_env(args.server)
    manage(env, "migrate", "--noinput")
    port = free_port()
    server_env = {**env, "PORT": str(port)}
    worker_cmd = [
        PY, "-m", "celery", "-A", "chatbot_project", "worker", "--concurrency", "1",
        "--without-gossip", "--without-mingle", "--loglevel", "WARNING", "-n", "load@%h",
    ]  # fmt: skip
    worker = start(worker_cmd, env, logs / "worker.log")
    server = start([PY, "-m", "chatbot_project.serve"], server_env, logs / f"{args.server}.log")
    procs = {"worker": worker}

    def worker_alive() -> None:
        """Something else on the machine may stop our worker: start a new one, once."""
        if procs["worker"].poll() is not None:
            if procs.get("restarted"):
                raise RuntimeError("the Celery worker died twice during ingestion")
            print("the worker died; starting another", flush=True)
            procs["restarted"] = True
            procs["worker"] = start(worker_cmd, env, logs / "worker-2.log")

    # A plain `kill` (SIGTERM) must still stop the server and the worker (finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results: dict[str, Any] = {"server": args.server, "steps": [], "cores": os.cpu_count()}
    try:
        wait_port(port, server)
        base = f"http://127.0.0.1:{port}"
        world = seed(env, base, args.docs, worker_alive)
        # Warm-up: model loaded, connections open.
        asyncio.run(run_rate(world, 2, 5, seed=0))
        best = None
        rate = args.start_rate
        step = 0
        while rate <= args.max_rate:
            step += 1
            summary = summarise(
                asyncio.run(run_rate(world, rate, args.step_seconds, seed=step)),
                rate,
                args.step_seconds,
            )
            results["steps"].append(summary)
            print("step  " + line(summary), flush=True)
            if not summary["ok"]:
                break
            best = rate
            rate += args.rate_step
        if best is None:
            print("no rate passed (p99 < 1 s, zero 5xx): nothing to hold")
            return 1
        hold = None
        for attempt_rate in (best, max(args.start_rate / 2, best - args.rate_step)):
            time.sleep(10)  # let the server drain what an overloaded step left queued
            hold = summarise(
                asyncio.run(run_rate(world, attempt_rate, args.hold_seconds, seed=999)),
                attempt_rate,
                args.hold_seconds,
            )
            print("hold  " + line(hold), flush=True)
            if hold["ok"]:
                break
        results["hold"] = hold
        print(json.dumps(hold, indent=2))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
        return 0 if hold and hold["ok"] else 1
    finally:
        stop(server)
        stop(procs["worker"])


if __name__ == "__main__":
    sys.exit(main())
