"""Static files under ASGI (chatbot_project/staticfiles.py): served without Django's warning
"StreamingHttpResponse must consume synchronous iterators in order to serve them asynchronously",
with WhiteNoise's status, headers and bytes.

Repro: `make run`, then GET /static/chatbot/widget.js: the server printed that warning (WhiteNoise's
FileResponse iterates the file synchronously; Django's ASGI handler read it whole in a thread)."""

from __future__ import annotations

import asyncio
import warnings

from django.conf import settings

from chatbot_project.asgi import application

WIDGET = settings.BASE_DIR / "static" / "chatbot" / "widget.js"


async def _fetch(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> list[dict]:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip
    sent: list[dict] = []
    request = {"type": "http.request", "body": b"", "more_body": False}
    received = False

    async def receive() -> dict:
        nonlocal received
        if not received:
            received = True
            return request
        await asyncio.Event().wait()  # the client stays (Django listens for a disconnect)
        raise AssertionError("unreachable")

    async def send(message: dict) -> None:
        sent.append(message)

    await application(scope, receive, send)
    return sent


def fetch(method: str, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """One request through the real ASGI app: status, headers, body; fails on any warning about
    a synchronous iterator."""
    raw = [
        (name.replace("_", "-").lower().encode(), value.encode()) for name, value in headers.items()
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sent = asyncio.run(_fetch(method, path, raw))
    assert not [w for w in caught if "synchronous iterators" in str(w.message)], [
        str(w.message) for w in caught
    ]
    start = sent[0]
    assert start["type"] == "http.response.start"
    assert sent[-1].get("more_body", False) is False
    response_headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], response_headers, body


def test_widget_js_is_served_without_the_warning():
    status, headers, body = fetch("GET", "/static/chatbot/widget.js")
    assert status == 200
    assert body == WIDGET.read_bytes()
    assert headers["content-length"] == str(len(body))
    assert headers["content-type"].startswith("text/javascript")
    assert headers["cache-control"] == f"max-age={settings.WHITENOISE_MAX_AGE}, public"
    assert headers["cross-origin-resource-policy"] == "cross-origin"
    assert headers["access-control-allow-origin"] == "*"
    assert headers["etag"]
    assert headers["permissions-policy"]  # the full chain's headers too


def test_a_file_larger_than_a_chunk_arrives_whole():
    # Swagger UI's bundle (~1.4 MB) is read in several chunks.
    path = "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
    status, headers, body = fetch("GET", path)
    assert status == 200
    assert len(body) == int(headers["content-length"]) > 2 * 256 * 1024
    assert headers["content-type"].startswith("text/javascript")


def test_head_range_and_not_modified_keep_whitenoises_answers():
    _, first, _ = fetch("GET", "/static/chatbot/widget.js")
    status, headers, body = fetch("HEAD", "/static/chatbot/widget.js")
    assert (status, body) == (200, b"")
    assert headers["content-length"] == first["content-length"]
    status, headers, body = fetch("GET", "/static/chatbot/widget.js", range="bytes=0-9")
    assert (status, body) == (206, WIDGET.read_bytes()[:10])
    assert headers["content-range"] == f"bytes 0-9/{first['content-length']}"
    status, _, body = fetch("GET", "/static/chatbot/widget.js", if_none_match=first["etag"])
    assert (status, body) == (304, b"")


def test_the_api_chain_has_no_static_files_middleware():
    assert not [name for name in settings.API_MIDDLEWARE if "staticfiles" in name]
    assert "chatbot_project.staticfiles.StaticFilesMiddleware" in settings.MIDDLEWARE
