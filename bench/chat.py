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
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot_project.settings")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("EMBEDDING_PROVIDER", "local")
os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
BENCH_DB = os.environ.get("BENCH_DB", "bench_chat")
BENCH_REDIS_DB = os.environ.get("BENCH_REDIS_DB", "10")


def _configure() -> tuple[str, str]:
    import psycopg

    from chatbot_project import embedded

    env = embedded.configure_environment()
    db_url = os.environ.get("DATABASE_URL") or env["DATABASE_URL"]
    redis_url = os.environ.get("REDIS_URL") or env["REDIS_URL"]
    bench_url = urlunsplit(urlsplit(db_url)._replace(path=f"/{BENCH_DB}"))
    with psycopg.connect(db_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone():
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    redis_url = urlunsplit(urlsplit(redis_url)._replace(path=f"/{BENCH_REDIS_DB}"))
    os.environ["DATABASE_URL"] = bench_url
    os.environ["REDIS_URL"] = redis_url
    return bench_url, redis_url


BENCH_URL, BENCH_REDIS = _configure()

import django  # noqa: E402

django.setup()

import psutil  # noqa: E402
from django.core.management import call_command  # noqa: E402

from chatbot_project.testing.processes import free_port, stop  # noqa: E402

DOCS = {
    "Throttling": "Throttling limits how many requests a client can make. Use AnonRateThrottle "
    "to limit anonymous clients, for example to 100 requests per day, and UserRateThrottle for "
    "authenticated users.",
    "Pagination": "Pagination splits large result sets into pages. CursorPagination gives an "
    "opaque cursor and a stable ordering; PageNumberPagination uses page numbers.",
    "Authentication": "TokenAuthentication uses a simple token-based HTTP authentication "
    "scheme. Clients send the token in the Authorization header.",
}
QUESTIONS = [
    "How do I limit anonymous clients per day?",
    "How does cursor pagination keep a stable ordering?",
    "Where do clients send the authentication token?",
    "What is the difference between page numbers and cursors?",
    "Can I throttle authenticated users differently?",
]
CONTENT = re.compile(rb'"content": ?"[^"]')


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))]


def setup_fixture() -> str:
    from apikeys.services import api_key_create
    from bots.models import Bot
    from datasets.ingestion import process_document
    from datasets.models import Document
    from datasets.services import dataset_get_or_create, document_create_from_text
    from tenants.models import Tenant

    tenant, _ = Tenant.objects.get_or_create(slug="bench-chat", defaults={"name": "Bench"})
    dataset, _ = dataset_get_or_create(tenant=tenant, name="kb")
    for title, text in DOCS.items():
        doc, _ = document_create_from_text(tenant=tenant, dataset=dataset, text=text, title=title)
        if doc.status != Document.Status.READY:
            Document.objects.filter(pk=doc.pk).update(status=Document.Status.QUEUED)
            process_document(doc.id, use_lease=False)
    bot, _ = Bot.objects.get_or_create(
        tenant=tenant, slug="helper",
        defaults={"name": "Helper", "retrieval_mode": "hybrid", "top_k": 5, "max_tokens": 256},
    )  # fmt: skip
    bot.datasets.set([dataset])
    _, key = api_key_create(
        tenant=tenant, name="bench", permissions=("chat",), rate_limit="9999999/m"
    )
    return key


# --------------------------------------------------------------------------- processes
def start_stub(port: int, *, reply: str, token_delay: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatbot_project.testing.openai_stub", "--port", str(port),
         "--reply", reply, "--token-delay", str(token_delay)],
        cwd=BASE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    _wait_port(port)
    return proc


def start_server(server: str, port: int, stub_port: int) -> subprocess.Popen:
    env = dict(
        os.environ, PORT=str(port), HOST="127.0.0.1", ASGI_SERVER=server, DEBUG="false",
        DATABASE_URL=BENCH_URL, REDIS_URL=BENCH_REDIS, LOG_LEVEL="WARNING",
        SECURE_SSL_REDIRECT="false", ALLOWED_HOSTS="127.0.0.1,localhost",
        OPENAI_BASE_URL=f"http://127.0.0.1:{stub_port}/v1", OPENAI_API_KEY="sk-bench",
        CHAT_PROVIDER="openai", CHAT_MODEL="stub-model", EMBEDDING_PROVIDER="local",
        # One API key stands for thousands of users here: its per-key stream cap (20) is off.
        MAX_CONCURRENT_STREAMS_PER_KEY="0",
    )  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatbot_project.serve"], cwd=BASE, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    _wait_port(port, timeout=60)
    return proc


def _wait_port(port: int, timeout: float = 30) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


# --------------------------------------------------------------------------- client
async def stream_once(
    port: int, path: str, body: dict, headers: dict[str, str], *, until: str, hold: bool = False
) -> dict:
    """One streaming POST. Times to the first event and first content token; ``hold`` reads to
    the end (capacity), otherwise the connection closes after the first token."""
    out: dict = {"ok": False, "first_event": None, "first_token": None, "t0": time.perf_counter()}
    payload = json.dumps(body).encode()
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
            f"Content-Length: {len(payload)}", "Accept: text/event-stream"]  # fmt: skip
    head += [f"{k}: {v}" for k, v in headers.items()]
    started = time.perf_counter()
    writer = None
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        await writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            out["error"] = status.decode(errors="replace").strip()
            return out
        buf = b""
        while True:
            data = await reader.read(65536)
            if not data:
                break
            now = time.perf_counter()
            buf += data
            if out["first_event"] is None and (b"event: " in buf or b"data: " in buf):
                out["first_event"] = (now - started) * 1000
            if out["first_token"] is None and (
                (until == "delta" and b"event: delta" in buf)
                or (until == "content" and CONTENT.search(buf))
            ):
                out["first_token"] = (now - started) * 1000
                if not hold:
                    out["ok"] = True
                    return out
            if hold and (b"event: end" in buf or b"[DONE]" in buf):
                out["ok"] = True
                return out
            if len(buf) > 1 << 16:
                buf = buf[-4096:]
        out["ok"] = out["first_token"] is not None and not hold
        if not out["ok"]:
            out["error"] = "stream ended early"
        return out
    except (OSError, asyncio.IncompleteReadError) as exc:
        out["error"] = type(exc).__name__
        return out
    finally:
        if writer is not None:
            writer.close()


# --------------------------------------------------------------------------- 1. TTFT
async def ttft(server: str, key: str, n1: int, n50: int) -> None:
    stub_port, port = free_port(), free_port()
    stub = start_stub(stub_port, reply=" ".join(["token"] * 20), token_delay=0.0)
    proc = start_server(server, port, stub_port)
    auth = {"Authorization": f"Bearer {key}"}
    upstream_body = {"model": "stub-model", "stream": True,
                     "messages": [{"role": "user", "content": QUESTIONS[0]}]}  # fmt: skip
    try:
        for i in range(10):  # warm-up: imports, model load, connections
            await stream_once(
                port, "/v1/chat", {"bot": "helper", "message": f"warm {i}"}, auth, until="delta"
            )

        async def run(conc: int, total: int, direct: bool, unique: bool) -> list[float]:
            times: list[float] = []
            counter = iter(range(total))

            async def worker() -> None:
                for i in counter:
                    if direct:
                        r = await stream_once(
                            stub_port, "/v1/chat/completions", upstream_body, {}, until="content"
                        )
                    else:
                        q = QUESTIONS[i % len(QUESTIONS)]
                        msg = f"{q} (variant {i} {time.time_ns()})" if unique else q
                        r = await stream_once(
                            port, "/v1/chat", {"bot": "helper", "message": msg}, auth, until="delta"
                        )
                    if r["ok"]:
                        times.append(r["first_token"])

            await asyncio.gather(*(worker() for _ in range(conc)))
            return times

        print(f"\nTTFT ({server}), ms; added = via /v1/chat minus straight from the stub:")
        print(
            "| streams | case | stub p50 | stub p95 | /v1/chat p50 | /v1/chat p95 | "
            "added p50 | added p95 |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for conc, total, unique, label in [
            (1, n1, True, "unique questions (embedding computed)"),
            (1, n1, False, "repeated question (embedding cached)"),
            (50, n50, True, "unique questions"),
        ]:
            direct = await run(conc, total, True, unique)
            via = await run(conc, total, False, unique)
            print(
                f"| {conc} | {label} | {pct(direct, 50):.1f} | {pct(direct, 95):.1f} | "
                f"{pct(via, 50):.1f} | {pct(via, 95):.1f} | {pct(via, 50) - pct(direct, 50):.1f} | "
                f"{pct(via, 95) - pct(direct, 95):.1f} |"
            )
    finally:
        stop(proc)
        stop(stub)


# --------------------------------------------------------------------------- 2. capacity
async def capacity(server: str, key: str, rate: float, arrival_s: float, stream_s: float) -> dict:
    stub_port, port = free_port(), free_port()
    tokens = max(2, int(stream_s))
    stub = start_stub(stub_port, reply=" ".join(["tok"] * tokens), token_delay=stream_s / tokens)
    proc = start_server(server, port, stub_port)
    auth = {"Authorization": f"Bearer {key}"}
    server_ps = psutil.Process(proc.pid)
    try:
        warm = [{"bot": "helper", "message": f"warm {i}"} for i in range(5)]
        await asyncio.gather(
            *(stream_once(port, "/v1/chat", b, auth, until="delta", hold=True) for b in warm)
        )
        await asyncio.sleep(1)
        rss0 = server_ps.memory_info().rss
        cpu0 = server_ps.cpu_times()
        open_now = 0
        peak = {"open": 0, "rss": rss0}
        results: list[dict] = []

        async def one(i: int) -> None:
            nonlocal open_now
            open_now += 1
            try:
                q = QUESTIONS[i % len(QUESTIONS)]
                results.append(
                    await stream_once(
                        port,
                        "/v1/chat",
                        {"bot": "helper", "message": q},
                        auth,
                        until="delta",
                        hold=True,
                    )
                )
            finally:
                open_now -= 1

        async def sampler() -> None:
            while True:
                await asyncio.sleep(0.5)
                if open_now >= peak["open"]:
                    peak["open"] = open_now
                    peak["rss"] = server_ps.memory_info().rss

        sampling = asyncio.ensure_future(sampler())
        t0 = time.perf_counter()
        tasks = []
        total = int(rate * arrival_s)
        for i in range(total):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.ensure_future(one(i)))
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=stream_s * 4 + 120)
        elapsed = time.perf_counter() - t0
        sampling.cancel()
        cpu1 = server_ps.cpu_times()
        if os.environ.get("BENCH_CHAT_DUMP"):  # per-stream (start s, first event ms) for plots
            with open(os.environ["BENCH_CHAT_DUMP"], "w") as fh:
                json.dump([[r["t0"] - t0, r["first_event"]] for r in results], fh)
        failures = [r for r in results if not r["ok"]]
        firsts = [r["first_event"] for r in results if r["first_event"] is not None]
        cpu = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / elapsed * 100
        out = {
            "server": server, "rate": rate, "total": total, "peak_open": peak["open"],
            "failed": len(failures), "fail_pct": 100 * len(failures) / max(total, 1),
            "first_p50": pct(firsts, 50), "first_p95": pct(firsts, 95), "cpu_pct": cpu,
            "kb_per_stream": (peak["rss"] - rss0) / 1024 / max(peak["open"], 1),
            "errors": sorted({r.get("error", "") for r in failures})[:3],
        }  # fmt: skip
        return out
    finally:
        stop(proc)
        stop(stub)


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
    args = parser.parse_args()
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
            f"{args.arrival_seconds:.0f} s (one server process each):"
        )
        print("| server | new/s | streams | peak open | failed | first event p50 ms | p95 ms | "
              "server CPU % | RSS per open stream KB |")  # fmt: skip
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in rows:
            print(
                f"| {r['server']} | {r['rate']:.0f} | {r['total']} | {r['peak_open']} | "
                f"{r['failed']} ({r['fail_pct']:.1f}%) | {r['first_p50']:.1f} | "
                f"{r['first_p95']:.1f} | {r['cpu_pct']:.0f} | {r['kb_per_stream']:.1f} |"
            )


if __name__ == "__main__":
    main()
