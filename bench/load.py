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

The pieces: bench/load_setup.py (environment, database, seeding), bench/load_traffic.py (the
traffic and its summary). This script starts and stops the processes and runs the steps and the
hold; the names of those modules are re-exported here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.load_setup import (  # noqa: E402, F401 - re-exported
    CORPUS,
    DB_NAME,
    KEYS,
    PY,
    World,
    _recreate_database,
    bench_env,
    manage,
    seed,
)
from bench.load_traffic import (  # noqa: E402, F401 - re-exported
    P99_LIMIT,
    Sample,
    line,
    one,
    pct,
    pick,
    run_rate,
    summarise,
)


# --------------------------------------------------------------------------- processes
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
