"""bench/chat.py's measurements: a raw asyncio HTTP/1.1 streaming client (cheap enough not to be
the bottleneck), the added time-to-first-token run, and the capacity run. Each run starts its own
stub and server process (bench/chat_fixture.py) and stops them when it ends.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from types import SimpleNamespace
from typing import Any

import psutil

from bench.chat_fixture import QUESTIONS, start_server, start_stub
from bench.common import pct
from chatbot_project.testing.processes import free_port, stop

CONTENT = re.compile(rb'"content": ?"[^"]')


# --------------------------------------------------------------------------- client
async def stream_once(
    port: int, path: str, body: dict, headers: dict[str, str], *, until: str, hold: bool = False
) -> dict:
    """One streaming POST. Times to the first event and first content token; ``hold`` reads to
    the end (capacity), otherwise the connection closes after the first token."""
    out: dict = {
        "ok": False, "first_event": None, "first_token": None, "connect": None,
        "t0": time.perf_counter(),
    }  # fmt: skip
    payload = json.dumps(body).encode()
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
            f"Content-Length: {len(payload)}", "Accept: text/event-stream"]  # fmt: skip
    head += [f"{k}: {v}" for k, v in headers.items()]
    started = time.perf_counter()
    writer = None
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        out["connect"] = (time.perf_counter() - started) * 1000
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        await writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            out["error"] = status.decode(errors="replace").strip()
            return out
        buf = tail = b""
        while True:
            data = await reader.read(65536)
            if not data:
                break
            now = time.perf_counter()
            if out["first_token"] is None:  # until then the whole response so far is searched
                buf += data
                if out["first_event"] is None and (b"event: " in buf or b"data: " in buf):
                    out["first_event"] = (now - started) * 1000
                if (until == "delta" and b"event: delta" in buf) or (
                    until == "content" and CONTENT.search(buf)
                ):
                    out["first_token"] = (now - started) * 1000
                    if not hold:
                        out["ok"] = True
                        return out
            # Afterwards only the new bytes (and a few before them): holding ~2,000 streams the
            # client must stay cheap, or its own lag is what the first-event figures measure.
            window = tail + data
            if hold and (b"event: end" in window or b"[DONE]" in window):
                out["ok"] = True
                return out
            tail = window[-16:]
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

        async def run(
            conc: int, total: int, direct: bool, unique: bool, pause: float = 0.0
        ) -> list[float]:
            times: list[float] = []
            counter = iter(range(total))

            async def worker() -> None:
                for i in counter:
                    if pause:
                        await asyncio.sleep(pause)
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
        # Back to back, each chat starts while the server still finishes the previous one
        # (closing its stream, saving the turn); "20 ms apart" is one user who reads the start
        # of the answer before asking again.
        for conc, total, unique, label, pause in [
            (1, n1, True, "unique questions (embedding computed)", 0.0),
            (1, n1, False, "repeated question (embedding cached)", 0.0),
            (1, n1, True, "unique questions, 20 ms apart", 0.02),
            (1, n1, False, "repeated question, 20 ms apart", 0.02),
            (50, n50, True, "unique questions", 0.0),
        ]:
            direct = await run(conc, total, True, unique, pause)
            via = await run(conc, total, False, unique, pause)
            print(
                f"| {conc} | {label} | {pct(direct, 50):.1f} | {pct(direct, 95):.1f} | "
                f"{pct(via, 50):.1f} | {pct(via, 95):.1f} | {pct(via, 50) - pct(direct, 50):.1f} | "
                f"{pct(via, 95) - pct(direct, 95):.1f} |"
            )
    finally:
        stop(proc)
        stop(stub)


# --------------------------------------------------------------------------- 2. capacity
class _Tree:
    """A process and its children (as at creation), summed: CPU times and RSS."""

    def __init__(self, pid: int) -> None:
        root = psutil.Process(pid)
        self.procs = [root, *root.children(recursive=True)]

    def cpu_times(self) -> Any:
        times = [p.cpu_times() for p in self.procs]
        return SimpleNamespace(user=sum(t.user for t in times), system=sum(t.system for t in times))

    def memory_info(self) -> Any:
        return SimpleNamespace(rss=sum(p.memory_info().rss for p in self.procs))


async def capacity(server: str, key: str, rate: float, arrival_s: float, stream_s: float) -> dict:
    stub_port, port = free_port(), free_port()
    tokens = max(2, int(stream_s))
    stub = start_stub(stub_port, reply=" ".join(["tok"] * tokens), token_delay=stream_s / tokens)
    proc = start_server(server, port, stub_port)
    auth = {"Authorization": f"Bearer {key}"}
    stub_ps, client_ps = psutil.Process(stub.pid), psutil.Process()
    try:
        warm = [{"bot": "helper", "message": f"warm {i}"} for i in range(5)]
        await asyncio.gather(
            *(stream_once(port, "/v1/chat", b, auth, until="delta", hold=True) for b in warm)
        )
        await asyncio.sleep(1)
        # The server's processes: one, or the supervisor and its WEB_CONCURRENCY children.
        server_ps = _Tree(proc.pid)
        rss0 = server_ps.memory_info().rss
        cpu0 = [ps.cpu_times() for ps in (server_ps, stub_ps, client_ps)]
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
        cpu1 = [ps.cpu_times() for ps in (server_ps, stub_ps, client_ps)]
        if os.environ.get("BENCH_CHAT_DUMP"):  # per stream: start s, first event ms, connect ms
            with open(os.environ["BENCH_CHAT_DUMP"], "w") as fh:
                json.dump([[r["t0"] - t0, r["first_event"], r["connect"]] for r in results], fh)
        failures = [r for r in results if not r["ok"]]
        firsts = [r["first_event"] for r in results if r["first_event"] is not None]
        cpu, stub_cpu, client_cpu = (
            (b.user + b.system - a.user - a.system) / elapsed * 100
            for a, b in zip(cpu0, cpu1, strict=True)
        )
        out = {
            "server": server, "rate": rate, "total": total, "peak_open": peak["open"],
            "failed": len(failures), "fail_pct": 100 * len(failures) / max(total, 1),
            "first_p50": pct(firsts, 50), "first_p95": pct(firsts, 95), "cpu_pct": cpu,
            "stub_cpu_pct": stub_cpu, "client_cpu_pct": client_cpu,
            "cpu_ms_per_stream": cpu * elapsed * 10 / max(total, 1),
            "kb_per_stream": (peak["rss"] - rss0) / 1024 / max(peak["open"], 1),
            "errors": sorted({r.get("error", "") for r in failures})[:3],
        }  # fmt: skip
        return out
    finally:
        stop(proc)
        stop(stub)
