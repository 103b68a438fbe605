"""Several server processes on one port (``WEB_CONCURRENCY``), supervised by the process that
bound it.

Why: one process runs its Python under one GIL. The chat benchmark measured ~13 ms of server CPU
per chat stream (bench/README.md, "Capacity"): one process cannot start more than ~75 streams a
second (first event p95 <= 50 ms held to ~50/s on the 2-core bench machine), whatever the
cores. On a machine with more cores, ``WEB_CONCURRENCY=N`` runs N uvicorn processes that accept
from the same listening sockets (bound once, here, before the fork: a process that dies and is
replaced loses no queued connection).

Nothing the processes share lives in them: rate limits, stream caps, the question-vector cache
and WebSocket groups are in Redis; each process keeps its own database connections (N times the
chat DB threads' connections in PostgreSQL), its own embedder and its own caches, which are
confirmed against the database as with several replicas.

Not uvicorn's own ``--workers`` supervisor: it spawns fresh interpreters (Django and the
embedder imported again per process instead of shared copy-on-write after one set-up, and our
per-process tuning in ``serve`` would not run), kills a process whose loop misses a 5 s health
ping (a loop saturated by a burst of chats would be restarted, dropping its streams), and
restarts everything on SIGHUP.

The supervisor: ``SIGTERM``/``SIGINT`` (and ``SIGHUP``: its terminal went away) stop every
process gracefully (uvicorn lets open requests finish); a second signal makes them quit now. A
process that dies on its own is replaced; one that keeps dying within seconds of its start (a
bad configuration: every process would) stops the whole server with exit status 1 instead of
looping.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable

# A process that exits within this many seconds of its start counts as a failed start; after
# ``MAX_FAILED_STARTS`` in a row the supervisor gives up.
FAILED_START_SECONDS = 10.0
MAX_FAILED_STARTS = 5
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _say(text: str) -> None:
    sys.stderr.write(f"[supervisor {os.getpid()}] {text}\n")
    sys.stderr.flush()


def _die_with(parent: int) -> None:
    """Linux: this process gets SIGTERM when the supervisor dies (a process manager that
    SIGKILLs it must not leave server processes holding the port); gone already: exit now."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the supervisor's signals still reach us
        return
    if os.getppid() != parent:
        os._exit(0)


def _spawn(child: Callable[[], int]) -> int:
    parent = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    # The child: default signal handling (uvicorn installs its own), then the server.
    code = 1
    try:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        _die_with(parent)
        code = child() or 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return 0  # not reached


def _status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by signal {os.WTERMSIG(status)}"
    return f"exited with status {os.waitstatus_to_exitcode(status)}"


def supervise(count: int, child: Callable[[], int]) -> int:
    """Run ``child()`` in ``count`` forked processes until a signal stops them; returns the
    exit status for the whole server (0 after a requested stop)."""
    started: dict[int, float] = {}
    stopping = {"signals": 0}

    def on_signal(sig: int, frame: object) -> None:
        stopping["signals"] += 1
        # First signal: graceful (uvicorn finishes open requests). Then: SIGINT, which uvicorn
        # takes as "quit now" once it is already stopping.
        forward = signal.SIGTERM if stopping["signals"] == 1 else signal.SIGINT
        for pid in list(started):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, forward)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    for _ in range(count):
        started[_spawn(child)] = time.monotonic()
    _say(f"{count} server processes: {', '.join(map(str, started))}")
    failed_starts = 0
    result = 0
    while started:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        began = started.pop(pid, None)
        if began is None:
            continue
        if stopping["signals"]:
            continue
        lived = time.monotonic() - began
        failed_starts = failed_starts + 1 if lived < FAILED_START_SECONDS else 0
        if failed_starts >= MAX_FAILED_STARTS:
            _say(
                f"process {pid} {_status(status)} {lived:.1f}s after it started, the "
                f"{failed_starts}th such start in a row: stopping the server (see the errors "
                "above)."
            )
            result = 1
            on_signal(signal.SIGTERM, None)
            continue
        new = _spawn(child)
        started[new] = time.monotonic()
        _say(f"process {pid} {_status(status)}; started {new} in its place")
    return result
