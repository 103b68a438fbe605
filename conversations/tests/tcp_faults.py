"""A TCP proxy between a browser page and the app that breaks the network mid-answer, for the
widget's browser tests (a lost connection, a stalled one)."""

from __future__ import annotations

import contextlib
import socket
import threading


def faulty_proxy(target_port: int, mode: str) -> tuple[str, threading.Event]:
    """A proxy to ``127.0.0.1:target_port``; while its event is set, what follows a chat
    answer's third delta is either cut (``mode="drop"``: half of it sent, then both connections
    closed, as a lost network) or held (``"stall"``: nothing more forwarded, pings included, both
    connections kept open, as a NAT or proxy that lost the flow). Returns (base URL, event)."""
    assert mode in ("drop", "stall")
    armed = threading.Event()
    server = socket.create_server(("127.0.0.1", 0))

    def pipe(source: socket.socket, sink: socket.socket, answers: bool) -> None:
        deltas, stalled = 0, False
        try:
            while data := source.recv(65536):
                if answers and armed.is_set() and deltas >= 3:  # three deltas went through
                    armed.clear()
                    if mode == "drop":
                        sink.sendall(data[: len(data) // 2])
                        break
                    stalled = True
                if not stalled:
                    sink.sendall(data)
                    if answers and armed.is_set():  # (a kept-alive connection: this answer's)
                        deltas += data.count(b"event: delta")
        except OSError:
            pass
        for end in (source, sink):  # the browser gave up (or the app ended): close both
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def accept() -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", target_port))
            threading.Thread(target=pipe, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=pipe, args=(upstream, client, True), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return f"http://127.0.0.1:{server.getsockname()[1]}", armed
