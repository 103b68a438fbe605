"""Chat streaming benchmark: added time-to-first-token and how many streams one process holds.

    .venv/bin/python bench/chat.py [--skip-ttft] [--skip-capacity] [--servers uvicorn,daphne]
                                   [--rates 50,100] [--stream-seconds 20] [--arrival-seconds 25]

Everything runs on this machine: the local OpenAI-compatible stub (chatbot_project.testing.
openai_stub) in its own process as the upstream, the app served by `python -m
chatbot_project.serve` (ASGI_SERVER=uvicorn|daphne) on its own database (``bench_chat``) and Redis
db 10, and a raw asyncio HTTP/1.1 client (cheap enough not to be the bottleneck).

1. Added TTFT: time from sending the request to the first content token, straight from the stub
   vs through POST /v1/chat (SSE; first ``event: delta``, which includes auth, rate limit, bot and
   scope lookup, query embedding, hybrid retrieval, prompt assembly and the DB writes of the
   start), p50/p95, at 1 and at 50 concurrent streams. At 1 stream: unique questions (the query
   embedding is computed every time) and a repeated question (served from the Redis cache).
2. Capacity: new streams opened at a fixed rate for ``--arrival-seconds``, each lasting about
   ``--stream-seconds`` (the stub sends one token per second), so about rate x duration streams
   are open at once. Reported: peak open streams, failures, p50/p95 time to the first event, CPU
   of the server process, and its RSS growth per open stream; Uvicorn and Daphne side by side.

The pieces: bench/chat_fixture.py (database, knowledge base, key, stub and server processes),
bench/chat_measure.py (the streaming client and the two runs), bench/common.py (shared with the
retrieval benchmark). This script parses the command line, runs them and prints the tables; the
names other scripts import from it (``setup_fixture``, ``start_stub``, ``start_server``,
``stream_once``, ``QUESTIONS``, ``free_port``, ``stop``, ``BENCH_URL``...) are re-exported here.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))

# Importing the fixture configures the bench database and Redis db and sets Django up.
from bench.chat_fixture import (  # noqa: E402, F401 - re-exported
    BENCH_DB,
    BENCH_REDIS,
    BENCH_REDIS_DB,
    BENCH_URL,
    DOCS,
    QUESTIONS,
    _wait_port,
    setup_fixture,
    start_server,
    start_stub,
)

# isort: split
import psutil  # noqa: E402, F401 - re-exported
from django.core.management import call_command  # noqa: E402

from bench.chat_measure import CONTENT, capacity, stream_once, ttft  # noqa: E402, F401
from bench.common import pct  # noqa: E402, F401 - re-exported
from chatbot_project.testing.processes import free_port, stop  # noqa: E402, F401 - re-exported


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-ttft", action="store_true")
    parser.add_argument("--skip-capacity", action="store_true")
    parser.add_argument("--servers", default="uvicorn,daphne")
    parser.add_argument("--rates", default="50,100")
    parser.add_argument("--stream-seconds", type=float, default=20.0)
    parser.add_argument("--arrival-seconds", type=float, default=25.0)
    parser.add_argument("--n1", type=int, default=100)
    parser.add_argument("--n50", type=int, default=500)
    parser.add_argument(
        "--web-concurrency", type=int, default=1,
        help="server processes (WEB_CONCURRENCY; uvicorn only); CPU and RSS are summed over them",
    )  # fmt: skip
    args = parser.parse_args()
    os.environ["WEB_CONCURRENCY"] = str(args.web_concurrency)
    try:  # the client: ~2,000 streams must not make it the bottleneck (uvicorn ships uvloop)
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    call_command("migrate", verbosity=0)
    key = setup_fixture()
    print(f"database {BENCH_DB}, redis {BENCH_REDIS}, cores {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    servers = [s for s in args.servers.split(",") if s]
    if not args.skip_ttft:
        for server in servers:
            asyncio.run(ttft(server, key, args.n1, args.n50))
    if not args.skip_capacity:
        rows = []
        for rate in [float(r) for r in args.rates.split(",")]:
            for server in servers:
                row = asyncio.run(
                    capacity(server, key, rate, args.arrival_seconds, args.stream_seconds)
                )
                rows.append(row)
                print(row, flush=True)
        print(
            f"\nCapacity: streams of ~{args.stream_seconds:.0f} s opened at a fixed rate for "
            f"{args.arrival_seconds:.0f} s ({args.web_concurrency} server process(es) each):"
        )
        print("| server | new/s | streams | peak open | failed | first event p50 ms | p95 ms | "
              "server CPU % | server CPU ms per stream | stub / client CPU % | "
              "RSS per open stream KB |")  # fmt: skip
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in rows:
            print(
                f"| {r['server']} | {r['rate']:.0f} | {r['total']} | {r['peak_open']} | "
                f"{r['failed']} ({r['fail_pct']:.1f}%) | {r['first_p50']:.1f} | "
                f"{r['first_p95']:.1f} | {r['cpu_pct']:.0f} | {r['cpu_ms_per_stream']:.2f} | "
                f"{r['stub_cpu_pct']:.0f} / {r['client_cpu_pct']:.0f} | {r['kb_per_stream']:.1f} |"
            )


if __name__ == "__main__":
    main()
