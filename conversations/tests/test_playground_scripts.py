"""The playground's scripts (static/chatbot/playground*.js, loaded by templates/web/playground.html
with plain tags, no build step): every one the page names is served, by WhiteNoise and by the
app's own allow-list (``web_views.WIDGET_ASSETS``), none is left out of the page, and each stays
within the house limit of 400 lines (docs STYLE.md). Repro: playground.js had grown to 599 lines;
it is now split into playground_messages.js, playground_chat.js and playground.js."""

from __future__ import annotations

import re

import pytest
from django.test import RequestFactory

from conversations import web_views

pytestmark = pytest.mark.django_db

HOUSE_LIMIT = 400


def _page_scripts(client) -> list[str]:
    res = client.get("/playground/")
    assert res.status_code == 200
    return re.findall(r'<script src="/static/chatbot/([^"]+)"', res.content.decode())


def test_the_playground_loads_its_scripts_in_order_and_all_of_them(client):
    scripts = _page_scripts(client)
    assert scripts == [
        "widget.js",
        "playground_messages.js",
        "playground_chat.js",
        "playground.js",  # last: it calls the other two
    ]
    on_disk = sorted(p.name for p in web_views.WIDGET_ASSETS_DIR.glob("playground*.js"))
    assert on_disk == sorted(s for s in scripts if s.startswith("playground"))


def test_each_playground_script_is_served_and_within_the_house_limit(client):
    for name in _page_scripts(client):
        served = client.get(f"/static/chatbot/{name}")  # WhiteNoise
        assert served.status_code == 200, name
        assert "javascript" in served["Content-Type"], name
        # The app's own route for the widget's files, whatever serves /static/ in front of it.
        own = web_views.widget_asset(RequestFactory().get(f"/static/chatbot/{name}"), name)
        assert own.status_code == 200, name
        assert own["Cross-Origin-Resource-Policy"] == "cross-origin", name
        if name.startswith("playground"):
            lines = (web_views.WIDGET_ASSETS_DIR / name).read_text().count("\n")
            assert lines <= HOUSE_LIMIT, f"{name} has {lines} lines"
