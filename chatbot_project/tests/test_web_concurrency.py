"""WEB_CONCURRENCY: several uvicorn processes on one port under a supervisor (workers.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import psutil
import pytest

from chatbot_project.testing.processes import BASE_DIR, child_env, free_port, start_server, stop


def _children(proc: subprocess.Popen, count: int, timeout: float = 20) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [c.pid for c in psutil.Process(proc.pid).children() if c.is_running()]
        if len(pids) == count:
            return pids
        time.sleep(0.1)
    raise AssertionError(f"expected {count} server processes, found {pids}")


def _healthy(base: str, times: int = 10) -> None:
    for _ in range(times):  # a new connection each time
        assert httpx.get(f"{base}/v1/health", timeout=10).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_several_processes_serve_the_port_and_a_dead_one_is_replaced():
    proc, base = start_server(WEB_CONCURRENCY="2")
    try:
        first = _children(proc, 2)
        _healthy(base)
        os.kill(first[0], signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            now = _children(proc, 2)
            if first[0] not in now:
                break
            time.sleep(0.1)
        assert first[0] not in now
        assert first[1] in now
        _healthy(base)
    finally:
        stop(proc)


@pytest.mark.django_db(transaction=True)
def test_sigterm_stops_every_process():
    proc, base = start_server(WEB_CONCURRENCY="2")
    children = [psutil.Process(pid) for pid in _children(proc, 2)]
    _healthy(base, 2)
    proc.send_signal(signal.SIGTERM)  # the supervisor only, as a process manager would
    assert proc.wait(20) == 0
    _gone, alive = psutil.wait_procs(children, timeout=5)
    assert not alive


@pytest.mark.django_db(transaction=True)
def test_server_processes_do_not_outlive_a_killed_supervisor():
    """A process manager that SIGKILLs the supervisor (its signals cannot be forwarded) must
    not leave server processes holding the port."""
    proc, base = start_server(WEB_CONCURRENCY="2")
    children = [psutil.Process(pid) for pid in _children(proc, 2)]
    _healthy(base, 2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    _gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive


def test_a_process_that_keeps_failing_to_start_stops_the_server():
    """A bad configuration makes every process die at once: the supervisor gives up with
    status 1 after a few restarts instead of forking forever."""
    code = (
        "import sys; from chatbot_project import workers; sys.exit(workers.supervise(2, lambda: 3))"
    )
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 1
    assert "stopping the server" in out.stderr
    assert time.monotonic() - started < 30


@pytest.mark.django_db(transaction=True)
def test_daphne_with_several_processes_is_refused_with_a_reason():
    out = subprocess.run(
        [sys.executable, "-m", "chatbot_project.serve"], cwd=BASE_DIR,
        env=child_env(PORT=str(free_port()), HOST="127.0.0.1", ASGI_SERVER="daphne",
                      WEB_CONCURRENCY="2"),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 2
    assert "WEB_CONCURRENCY=2 needs ASGI_SERVER=uvicorn" in out.stderr


@pytest.mark.django_db(transaction=True)
def test_an_invalid_count_is_refused_with_a_reason():
    out = subprocess.run(
        [sys.executable, "-m", "chatbot_project.serve"], cwd=BASE_DIR,
        env=child_env(PORT=str(free_port()), HOST="127.0.0.1", WEB_CONCURRENCY="0"),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode != 0
    assert "WEB_CONCURRENCY=0 must be >= 1" in out.stderr
