"""Run the ASGI app with the server chosen by ASGI_SERVER (uvicorn, the default, or daphne).

The chat benchmark (bench/README.md) and ../shared/design/STREAMING.md measured Uvicorn ahead on
stream start-up cost; Daphne stays supported (it is the Channels reference server).
"""

from __future__ import annotations

import gc
import os
import socket
import sys
import threading
import time


def tune_gc(seconds: float) -> None:
    """Keep CPython's full (generation 2) collections off the request path.

    A streaming server holds ~500 tracked objects per open stream; CPython runs a full
    collection whenever the objects that survived into generation 2 grew by 25%, and with
    1,000 open streams each one stopped the event loop for 100-400 ms, every ~4 s at 50 new
    streams/s (measured with gc.callbacks in bench/chat.py's capacity run): every chat arriving
    meanwhile waited. Here: the objects of start-up (Django, models, the embedder) are frozen out
    of collection, automatic full collections are off, and a thread runs one every
    ``seconds`` (``GC_FULL_COLLECT_SECONDS``, default 60; 0 keeps CPython's default). Young
    generations are collected as usual, so most cyclic garbage goes within milliseconds; what
    reaches the old generation waits at most that long.
    """
    if seconds <= 0:
        return
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1_000_000_000)

    def collect() -> None:
        while True:
            time.sleep(seconds)
            gc.collect()

    threading.Thread(target=collect, name="gc-full", daemon=True).start()


# The largest WebSocket message either server takes in: uvicorn's default (ws_max_size), set for
# daphne too (its own is 1 MiB). Anything between POST /v1/chat's body limit and this reaches the
# chat consumer, which refuses it with a payload_too_large event and goes on; above it the
# server closes the socket with 1009 (message too big).
WS_MAX_MESSAGE_BYTES = 16 * 1024 * 1024


def _daphne_server():
    """Daphne's server, whose WebSocket connections fail with a close frame, not a drop.

    Autobahn (under daphne) fails a connection by dropping TCP unless told otherwise
    (``failByDrop``, on by default, and daphne has no option for it): a message over the size
    limit, or a protocol error, cut the socket without a close frame, and the client never
    learned why (1006). Off, autobahn sends the close code first (1009 for a message too big,
    1002 for a protocol error), as uvicorn does. Daphne makes its factory in ``run()``; the
    option is set as the factory is stored, before its first connection."""
    from daphne.server import Server

    class ClosingServer(Server):
        @property
        def ws_factory(self):
            return self.__dict__["ws_factory"]

        @ws_factory.setter
        def ws_factory(self, factory) -> None:
            factory.setProtocolOptions(failByDrop=False)
            self.__dict__["ws_factory"] = factory

    return ClosingServer


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket] | None:
    """``count`` listening sockets per address of ``host`` on ``port``, sharing the port
    (``SO_REUSEPORT``; the kernel spreads new connections over them), for uvicorn to serve all
    of them; None (uvicorn binds its socket) where that option does not exist or ``count`` is 1.

    Why: libuv (under uvloop) accepts one connection per listening socket per turn of the event
    loop (libuv PR #3696). With ~2,000 open streams a turn takes 10-30 ms, so one socket let in
    at most 30-100 new connections per second whatever the CPU left: at 100 new streams/s the
    kernel's accept queue grew to ~1,000 and the first event waited seconds there, while the
    server's own work per request stayed at ~0.1 s (bench/README.md, "Capacity"). ``count``
    sockets accept up to ``count`` per turn.

    A plain bind is tried first, so a port another server holds is refused as usual (sharing a
    port would otherwise split its connections between the two servers without a word)."""
    reuse_port = getattr(socket, "SO_REUSEPORT", None)
    if count <= 1 or reuse_port is None:
        return None
    # Every address the host name gives (``localhost``: ::1 and 127.0.0.1), as asyncio binds.
    addresses = list(
        dict.fromkeys(
            (family, kind, proto, address)
            for family, kind, proto, _, address in socket.getaddrinfo(
                host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
            )
        )
    )
    for family, kind, proto, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            probe.bind(address)  # OSError "Address already in use" when taken
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, address in addresses:
            for _ in range(count):
                sock = socket.socket(family, kind, proto)
                sockets.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.setsockopt(socket.SOL_SOCKET, reuse_port, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind(address)
                sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def warm_up() -> None:
    """Load the local question embedder in the background as the server starts, so the first
    question after a restart does not wait for it (weights ~1 s; the int8 model is read from its
    disk cache, built once otherwise). Requests arriving meanwhile wait for the same load."""
    from django.conf import settings

    if settings.EMBEDDING_PROVIDER != "local":
        return  # a remote provider: nothing to load, and no network call at start

    def load() -> None:
        try:
            from datasets.embeddings import get_embedder

            get_embedder().embed_query("warm-up")
        except Exception:  # the first real question will report it
            import logging

            logging.getLogger("chatbot.retrieval").warning("embedder warm-up failed", exc_info=True)

    threading.Thread(target=load, name="embedder-warm-up", daemon=True).start()


def process_tuning() -> tuple[float, float]:
    """(``GC_FULL_COLLECT_SECONDS``, ``GIL_SWITCH_INTERVAL_MS``), read by the server alone (not
    the settings); a bad one raises ImproperlyConfigured naming it."""
    from django.core.exceptions import ImproperlyConfigured

    from chatbot_project.env import env_choice, env_float

    gc_seconds = env_float("GC_FULL_COLLECT_SECONDS", 60)
    switch_ms = env_float("GIL_SWITCH_INTERVAL_MS", 1)
    if not switch_ms > 0:  # sys.setswitchinterval refuses 0 (and NaN)
        raise ImproperlyConfigured(f"GIL_SWITCH_INTERVAL_MS={switch_ms} must be > 0.")
    # uvicorn's own choices (a bad one was a uvicorn traceback once the server started).
    import uvicorn.config

    loops = getattr(uvicorn.config, "LOOP_SETUPS", None) or uvicorn.config.LOOP_FACTORIES
    env_choice("UVICORN_LOOP", "auto", set(loops))
    env_choice("UVICORN_HTTP", "auto", set(uvicorn.config.HTTP_PROTOCOLS))
    return gc_seconds, switch_ms


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot_project.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    from chatbot_project.env import load_settings_or_exit

    # A bad environment variable: "ImproperlyConfigured: <sentence>" and exit 1, no traceback.
    load_settings_or_exit()
    try:
        tuning = process_tuning()
    except ImproperlyConfigured as exc:
        raise SystemExit(f"ImproperlyConfigured: {exc}") from None

    import chatbot_project.asgi  # noqa: F401  (Django set up before start-up objects are frozen)

    port = str(settings.PORT)
    # Empty is unset, as for the settings (.env.example has `HOST=`; copied, "" failed to bind).
    host = os.environ.get("HOST") or ("127.0.0.1" if settings.DEBUG else "0.0.0.0")  # noqa: S104
    processes = settings.WEB_CONCURRENCY
    if settings.ASGI_SERVER == "daphne":
        if processes > 1:
            sys.stderr.write(
                f"WEB_CONCURRENCY={processes} needs ASGI_SERVER=uvicorn (daphne runs one "
                "process); unset it or run several daphne servers behind a proxy.\n"
            )
            return 2
        _tune_process(*tuning)
        from daphne.cli import CommandLineInterface

        # --verbosity 0: no access log of daphne's own (uvicorn runs without one too). It wrote
        # every request's client address and full query string to stdout, beside the app's
        # JSON access line (chatbot.access), which leaves both out.
        cli = CommandLineInterface()
        cli.server_class = _daphne_server()
        size = str(WS_MAX_MESSAGE_BYTES)
        cli.run(
            ["-b", host, "-p", port, "--no-server-name", "--verbosity", "0",
             "--websocket-max-message-size", size, "--websocket-max-frame-size", size,
             "chatbot_project.asgi:daphne_application"]
        )  # fmt: skip
        return 0

    import uvicorn

    config = uvicorn.Config(
        "chatbot_project.asgi:application",
        host=host,
        port=int(port),
        log_level="warning",
        backlog=2048,
        timeout_keep_alive=30,
        lifespan="off",
        server_header=False,  # no "server: uvicorn" telling every client what to probe for
        ws_max_size=WS_MAX_MESSAGE_BYTES,
        # "auto" = uvloop and httptools (in requirements.txt) when importable.
        loop=os.environ.get("UVICORN_LOOP") or "auto",
        http=os.environ.get("UVICORN_HTTP") or "auto",
    )
    try:
        count = settings.LISTEN_SOCKETS if processes == 1 else max(2, settings.LISTEN_SOCKETS)
        sockets = listening_sockets(host, int(port), count)
    except OSError as exc:
        sys.stderr.write(f"Cannot listen on {host}:{port}: {exc.strerror or exc}\n")
        return 1
    if sockets is None and processes > 1:  # no SO_REUSEPORT: one socket for every process
        sockets = [config.bind_socket()]  # exits with uvicorn's message if it cannot bind

    def serve() -> int:
        _tune_process(*tuning)
        uvicorn.Server(config).run(sockets=sockets)
        return 0

    if processes == 1:
        return serve()
    from chatbot_project.workers import supervise

    return supervise(processes, serve)


def _tune_process(gc_seconds: float, switch_ms: float) -> None:
    """In each server process (after the fork when there are several)."""
    tune_gc(gc_seconds)
    warm_up()
    # The event loop shares the GIL with the chat DB threads; each time it comes back from
    # waiting for sockets it may wait up to this long for a DB thread running Python. 1 ms
    # (CPython: 5) gave lower first-event p95 and server CPU in all four alternating capacity
    # pairs at 100 new/s (bench/README.md, "Capacity"). 5 restores CPython's default.
    sys.setswitchinterval(switch_ms / 1000)


if __name__ == "__main__":
    sys.exit(main())
