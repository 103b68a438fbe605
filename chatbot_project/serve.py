"""Run the ASGI app with the server chosen by ASGI_SERVER (uvicorn, the default, or daphne).

The chat benchmark (bench/README.md) and ../shared/design/STREAMING.md measured Uvicorn ahead on
stream start-up cost; Daphne stays supported (it is the Channels reference server).
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot_project.settings")
    from django.conf import settings

    port = str(settings.PORT)
    host = os.environ.get("HOST", "127.0.0.1" if settings.DEBUG else "0.0.0.0")  # noqa: S104
    if settings.ASGI_SERVER == "daphne":
        from daphne.cli import CommandLineInterface

        CommandLineInterface().run(["-b", host, "-p", port, "chatbot_project.asgi:application"])
    else:
        import uvicorn

        uvicorn.run(
            "chatbot_project.asgi:application",
            host=host,
            port=int(port),
            log_level="warning",
            backlog=2048,
            timeout_keep_alive=30,
            lifespan="off",
            # "auto" = uvloop and httptools (in requirements.txt) when importable.
            loop=os.environ.get("UVICORN_LOOP", "auto"),
            http=os.environ.get("UVICORN_HTTP", "auto"),
        )


if __name__ == "__main__":
    sys.exit(main())
