"""The floor under the retrieval API/raw ratio: minimal ASGI servers doing only the search.

``bench/retrieval.py --floor`` starts three ~30-line Uvicorn apps (uvloop + httptools, as the
product runs) beside the product's server and times them exactly like POST /v1/retrieve, in the
same loop and alternating with the same raw SQL:

- ``inline``: parse the JSON body, run the engine's statements (``run_statements``, the raw
  side's own call) on the event loop's thread, answer the rows as JSON. No auth, no rate limit,
  no bot, no thread hop: what any Python HTTP server in front of this statement costs.
- ``thread``: the same with the statement in a worker thread (``run_in_executor``), as a server
  that must not block its loop (one that also streams chats) has to do.
- ``thread+redis``: the same with the query's vector read from Redis first (a query-embedding
  cache), as /v1/retrieve reads it.

The vector travels in the body (base64 float32) for the first two, so they pay no cache
lookup. Their ratios to raw SQL show how much of the product's ratio is the floor of the
architecture and how much is the product's own code (bench/README.md, "Load").
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import json
import os
import sys
from pathlib import Path

MODES = ("inline", "thread", "thread+redis", "async+redis")


def serve() -> None:  # the server process: python bench/retrieval_floor.py (MODE, PORT set)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import numpy as np
    import psycopg
    import redis
    import uvicorn

    from bench.common import configure

    # "inline" runs the engine's count query (Django's connection, cached 30 s, as in the
    # product) on the loop's thread: allowed in this bench-only process.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    _db, _rdb, database_url, redis_url = configure("bench_retrieval", "9")
    from datasets.retrieval import QueryVector, _Filter, _vector_statements, run_statements

    mode = os.environ["MODE"]
    conn = psycopg.connect(database_url, autocommit=True)
    cache = redis.Redis.from_url(redis_url)
    pool = concurrent.futures.ThreadPoolExecutor(4)
    state: dict = {}

    async def awork(p: dict) -> bytes:  # async+redis: both round trips on the loop itself
        import redis.asyncio as aredis

        from datasets.query_vector import _QueryVectorDumper

        if not state:
            aconn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
            aconn.adapters.register_dumper(QueryVector, _QueryVectorDumper)
            state.update(conn=aconn, redis=aredis.Redis.from_url(redis_url))
        aconn = state["conn"]
        raw = await state["redis"].get(p["key"])
        flt = _Filter(tenant_id=p["tenant"], dataset_ids=(p["dataset"],), tags=None)
        stmts = _vector_statements(flt, QueryVector(np.frombuffer(raw, "<f4")), 10, p["plan"])
        if len(stmts) == 1:
            cur = aconn.cursor()
            await cur.execute(*stmts[0], prepare=True)
        else:
            async with aconn.pipeline():
                await aconn.execute("BEGIN")
                for sql, params in stmts:
                    cur = aconn.cursor()
                    await cur.execute(sql, params, prepare=True)
                await aconn.execute("COMMIT")
        rows = await cur.fetchall()
        return json.dumps({"data": [[str(x) for x in r] for r in rows]}).encode()

    def work(p: dict) -> bytes:
        raw = cache.get(p["key"]) if mode == "thread+redis" else base64.b64decode(p["vec"])
        flt = _Filter(tenant_id=p["tenant"], dataset_ids=(p["dataset"],), tags=None)
        rows = run_statements(
            conn, _vector_statements(flt, QueryVector(np.frombuffer(raw, "<f4")), 10, p["plan"])
        )[-1]
        return json.dumps({"data": [[str(x) for x in r] for r in rows]}).encode()

    async def app(scope: dict, receive: object, send: object) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()  # type: ignore[operator]
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if not body:  # the readiness probe (GET /): nothing to search
            empty = [(b"content-length", b"0")]
            await send({"type": "http.response.start", "status": 200, "headers": empty})  # type: ignore[operator]
            await send({"type": "http.response.body", "body": b""})  # type: ignore[operator]
            return
        p = json.loads(body)
        if mode == "inline":
            out = work(p)
        elif mode == "async+redis":
            out = await awork(p)
        else:
            out = await asyncio.get_running_loop().run_in_executor(pool, work, p)
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(out))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": out})  # type: ignore[operator]

    uvicorn.run(
        app, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning",
        loop="uvloop", http="httptools", lifespan="off",
    )  # fmt: skip


def start() -> dict[str, tuple[object, int]]:
    """The three servers: {mode: (process, port)}."""
    import subprocess

    from chatbot_project.testing.processes import free_port

    servers = {}
    for mode in MODES:
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, __file__], env=dict(os.environ, MODE=mode, PORT=str(port)),
            start_new_session=True,
        )  # fmt: skip
        servers[mode] = (proc, port)
    return servers


def payload(info: dict, vec: object, key: str, plan: str) -> dict:
    return {
        "tenant": str(info["tenant"].id), "dataset": str(info["dataset"].id), "key": key,
        "plan": plan, "vec": base64.b64encode(vec.astype("<f4").tobytes()).decode(),  # type: ignore[attr-defined]
    }  # fmt: skip


if __name__ == "__main__":
    serve()
