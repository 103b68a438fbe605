"""The /demo/ page's checks of the key it embeds (server side; the browser tests drive it)."""

from __future__ import annotations

import pytest

from apikeys.services import api_key_create
from conversations.tests.factories import BotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def key_files(tmp_path, monkeypatch):
    files = [tmp_path / "demo_widget_key", tmp_path / "demo_api_key"]
    monkeypatch.setattr("conversations.web_views.demo_key_files", lambda: files)
    return files


def _browser_key(tenant, origins: list[str]) -> str:
    bot = BotFactory(tenant=tenant, slug="demo")
    _, raw = api_key_create(
        tenant=tenant, name="demo widget", permissions=["chat"], bots=[bot],
        allowed_origins=origins,
    )  # fmt: skip
    return raw


def test_demo_page_says_when_its_key_does_not_allow_the_pages_origin(client, tenant, key_files):
    """seed_demo's browser key allows localhost and 127.0.0.1 on PORT: opened at any other
    address the widget was refused with no hint on the page why."""
    key_files[0].write_text(_browser_key(tenant, ["http://127.0.0.1:8000"]) + "\n")
    res = client.get("/demo/")
    assert res.status_code == 200
    text = res.content.decode()
    assert "widget.js" in text
    assert "allows http://127.0.0.1:8000, not this page&#x27;s origin http://testserver" in text
    assert "run `manage.py seed_demo` again with PORT set" in text


def test_demo_page_has_no_origin_note_when_the_key_allows_it(client, tenant, key_files):
    key_files[0].write_text(_browser_key(tenant, ["http://testserver"]) + "\n")
    res = client.get("/demo/")
    assert res.status_code == 200
    assert "not this page" not in res.content.decode()


@pytest.mark.parametrize("case", ["no key", "reader key", "revoked key", "other origin"])
def test_the_public_demo_page_names_no_server_path_unless_debug(
    client, tenant, key_files, settings, case
):
    """With DEBUG off the page is public: its notes name the key files, not where the server
    is installed (/demo/ said "No demo key was found at /srv/app/.data/demo_api_key")."""
    settings.DEBUG = False
    if case == "reader key":
        _, raw = api_key_create(tenant=tenant, name="seeded", permissions=["chat", "read"])
        key_files[1].write_text(raw + "\n")
    elif case == "revoked key":
        key_files[1].write_text("cb_" + "x" * 40 + "\n")
    elif case == "other origin":
        key_files[0].write_text(_browser_key(tenant, ["http://127.0.0.1:8000"]) + "\n")
    text = client.get("/demo/").content.decode()
    assert str(key_files[0].parent) not in text
    assert "demo_widget_key" in text or "demo_api_key" in text
    if case != "reader key":  # (with DEBUG on, that key is embedded)
        settings.DEBUG = True  # a developer's machine: the full path helps
        assert str(key_files[0].parent) in client.get("/demo/").content.decode()
