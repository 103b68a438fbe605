"""Running test code in a thread of its own (a worker, a command) beside the test's."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, list[BaseException]]:
    """``target`` started in a daemon thread, which closes its database connection when done;
    the list gets what it raised."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors
