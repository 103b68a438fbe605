"""An empty HOST (or UVICORN_LOOP / UVICORN_HTTP) is unset, as every setting's empty value is.

.env.example, the file README and the compose recipe copy to `.env`, has `HOST=` ("default
127.0.0.1 in DEBUG, 0.0.0.0 otherwise"); settings put `.env` into the environment, and
`python -m chatbot_project.serve` (Procfile, docs/running.md) bound to "" and exited with
"Cannot listen on :8000: Name or service not known" (compose alone set HOST itself)."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from chatbot_project.testing.processes import BASE_DIR, child_env, free_port, stop


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("server", "empty"),
    [("uvicorn", ("HOST",)), ("uvicorn", ("UVICORN_LOOP", "UVICORN_HTTP")), ("daphne", ("HOST",))],
)
def test_an_empty_value_is_the_default(server, empty):
    port = free_port()
    env = child_env(PORT=str(port), ASGI_SERVER=server, DEBUG="true")  # LISTEN_SOCKETS 8
    env.update(dict.fromkeys(empty, ""))
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatbot_project.serve"], cwd=BASE_DIR, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline, status = time.monotonic() + 30, None
        while status is None and time.monotonic() < deadline and proc.poll() is None:
            try:  # DEBUG: the default address is 127.0.0.1
                status = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=2).status_code
            except httpx.TransportError:
                time.sleep(0.1)
        output = b"" if proc.poll() is None else proc.stdout.read()
        assert status == 200, output.decode(errors="replace")
    finally:
        stop(proc)
