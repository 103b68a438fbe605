"""The chat path's two DB thread pools: writes stuck (a slow disk) never hold up reads."""

from __future__ import annotations

import contextlib
import threading

from asgiref.sync import async_to_sync

from conversations import dbthreads


def test_reads_run_while_every_write_thread_is_stuck(settings):
    settings.CHAT_DB_THREAD_SENSITIVE = False
    settings.CHAT_WRITE_THREADS = 2
    dbthreads._pools.pop("write", None)  # sized from the setting above
    release = threading.Event()
    try:

        async def scenario() -> tuple[str, list[str]]:
            import asyncio

            def commit() -> str:
                release.wait(10)
                return "written"

            writes = [asyncio.ensure_future(dbthreads.db_write(commit)()) for _ in range(5)]
            read = await asyncio.wait_for(
                dbthreads.db_sync(threading.current_thread)(), timeout=5
            )  # all write threads busy, three writes queued: the read is not behind them
            release.set()
            return read.name, await asyncio.gather(*writes)

        name, written = async_to_sync(scenario)()
        assert name.startswith("chat-read")
        assert written == ["written"] * 5
    finally:
        release.set()
        pool = dbthreads._pools.pop("write", None)
        if pool is not None:
            pool.shutdown(wait=False)


def test_errors_reach_the_caller_and_a_cancelled_queued_job_never_runs(settings):
    import asyncio

    settings.CHAT_DB_THREAD_SENSITIVE = False
    settings.CHAT_WRITE_THREADS = 1
    dbthreads._pools.pop("write", None)
    release, ran = threading.Event(), []

    def fail() -> None:
        raise ValueError("no such row")

    async def scenario() -> str:
        try:
            await dbthreads.db_sync(fail)()
        except ValueError as exc:
            message = str(exc)
        blocker = asyncio.ensure_future(dbthreads.db_write(lambda: release.wait(10))())
        queued = asyncio.ensure_future(dbthreads.db_write(lambda: ran.append(1))())
        await asyncio.sleep(0.05)
        queued.cancel()  # still waiting for the only write thread
        with contextlib.suppress(asyncio.CancelledError):
            await queued  # the cancellation is delivered (and the job withdrawn) before...
        release.set()  # ...the thread is free to take the next job
        await blocker
        await dbthreads.db_write(lambda: None)()  # the thread has drained its queue
        assert queued.cancelled()
        return message

    try:
        assert async_to_sync(scenario)() == "no such row"
        assert ran == []
    finally:
        release.set()
        pool = dbthreads._pools.pop("write", None)
        if pool is not None:
            pool.shutdown(wait=False)
