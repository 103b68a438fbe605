"""Fixtures for the browser tests: headless Debian Chromium driven by Playwright, the real ASGI app
in a server process on the test database, and a second HTTP server on another port that serves
pages from a different origin (a third-party site embedding the widget).

Playwright's bundled browsers are never downloaded (no ``playwright install``): the tests launch
``/usr/bin/chromium`` (Debian's package, installed by ``.ci/run``) and skip when it is absent.
The fixtures are registered in conftest.py for the test_browser_*.py modules; each module gets
its own browser and servers (module scope).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"
# The marks of every browser test module (``pytestmark = BROWSER_TEST_MARKS``).
BROWSER_TEST_MARKS = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return (
            f"browser tests need Chromium at {CHROMIUM} (Debian: apt-get install chromium; "
            ".ci/run installs it); skipped"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser tests need the playwright package (requirements-dev.txt); skipped"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module; every test using it skips without Chromium."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop on this thread, which makes Django refuse ORM
    # calls from the test body ("async context"). The test body is plain synchronous code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    manager = sync_playwright().start()
    try:
        browser = manager.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()
    finally:
        manager.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class LiveApp:
    base_url: str
    data_dir: Path
    proc: Any

    @property
    def demo_key_file(self) -> Path:
        """Where the demo page looks first for its browser key."""
        return self.data_dir / "demo_widget_key"

    @property
    def seeded_key_file(self) -> Path:
        """Where seed_demo writes its (chat + read) demo key."""
        return self.data_dir / "demo_api_key"


@contextlib.contextmanager
def _serve(tmp_path_factory: Any, **env: str) -> Iterator[LiveApp]:
    from chatbot_project import embedded
    from chatbot_project.testing.processes import free_port, start_server, stop

    data_dir = tmp_path_factory.mktemp("web-data")
    proc, base = start_server(
        port=free_port(),
        # The int8 question encoder built once for the checkout, not once per module.
        QUERY_MODEL_CACHE_DIR=str(embedded.DATA_DIR / "cache"),
        # The demo key file is read from here: a developer's own demo key is never touched.
        EMBEDDED_DATA_DIR=str(data_dir),
        EMBEDDING_PROVIDER="local",
        RATE_LIMIT_DEFAULT="1000/m",
        VISITOR_RATE_LIMIT="1000/m",  # every page of a module is one visitor (127.0.0.1)
        API_KEY_CACHE_SECONDS="0",
        **env,
    )
    try:
        yield LiveApp(base_url=base, data_dir=data_dir, proc=proc)
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def live_app(django_db_setup, tmp_path_factory) -> Iterator[LiveApp]:
    """The real ASGI app (uvicorn subprocess) on the test database, offline extractive provider."""
    with _serve(tmp_path_factory, CHAT_PROVIDER="extractive", OPENAI_API_KEY="") as app:
        yield app


@pytest.fixture(scope="module")
def streaming_app(django_db_setup, tmp_path_factory, _openai_stub_server) -> Iterator[LiveApp]:
    """The same app with the `openai` provider pointed at the local OpenAI-compatible stub, whose
    per-token delay makes an answer stream over about a second as a real model's does (the
    extractive provider emits its whole answer within milliseconds)."""
    with _serve(tmp_path_factory, **stub_provider(_openai_stub_server)) as app:
        yield app


def stub_provider(stub) -> dict[str, str]:
    """The server settings of the `openai` chat provider pointed at the local stub."""
    return {
        "CHAT_PROVIDER": "openai",
        "OPENAI_BASE_URL": stub.base_url,
        "OPENAI_API_KEY": "sk-stub",
        "CHAT_MODEL": "stub-model",
    }


@dataclass
class ThirdPartySite:
    """Pages served from another origin (another port) than the app."""

    base_url: str
    pages: dict[str, str] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)  # extra, per page path

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture(scope="module")
def third_party_site() -> Iterator[ThirdPartySite]:
    site = ThirdPartySite(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = site.pages.get(self.path.split("?")[0])
            if body is None:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in site.headers.get(self.path.split("?")[0], {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


def widget_page(
    *, app_url: str, bot: str, key: str, title: str = "A third-party site", head: str = ""
) -> str:
    """A plain page of another site embedding the widget with one script tag (no CSP of its own,
    so nothing but the widget's own rendering stands between document text and the DOM)."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>{head}
</head>
<body style="font-family: Georgia, serif"><h1>{title}</h1><p>Some content of the host page.</p>
<script src="{app_url}/static/chatbot/widget.js" data-bot="{bot}" data-key="{key}" async></script>
</body></html>"""


def library_page(*, app_url: str) -> str:
    """A page that loads widget.js without data-bot: it only exposes window.ChatbotWidget."""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>lib</title>
<script src="{app_url}/static/chatbot/widget.js"></script></head><body><div id="out"></div>
</body></html>"""


@contextlib.contextmanager
def new_page(browser: Any, viewport: dict[str, int]) -> Iterator[tuple[Any, list[str]]]:
    """A fresh context (own storage) and page; yields (page, problems) where problems collects
    page errors, CSP violations and failed requests other than the expected ones."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))

    def on_console(message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            problems.append(f"csp: {text}")

    page.on("console", on_console)
    try:
        yield page, problems
    finally:
        context.close()


def screenshot(page: Any, name: str, **kw: Any) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), **kw)
    return path


# Records each distinct text state of the newest answer while it streams.
OBSERVE_JS = """([rootSelector, messageSelector]) => {
  const host = document.querySelector(rootSelector);
  const root = host && host.shadowRoot ? host.shadowRoot : document;
  window.__cbStates = [];
  const record = () => {
    const all = root.querySelectorAll(messageSelector);
    const last = all[all.length - 1];
    if (!last) return;
    const text = last.textContent;
    const states = window.__cbStates;
    if (text && states[states.length - 1] !== text) states.push(text);
  };
  new MutationObserver(record).observe(root, {subtree: true, childList: true, characterData: true});
}"""
