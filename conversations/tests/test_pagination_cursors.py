"""Cursors and page sizes a client made up (chatbot_project/pagination.py, every list route):
one 400 sentence saying to use `next`, never a 500 or Django's date-format message."""

from __future__ import annotations

import base64

import pytest

from conversations.tests.conftest import build_kb
from conversations.tests.helpers import chat

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::Warning")]

CURSOR_SENTENCE = "cursor is not valid; use the `next` value of a previous page."


def _cursor(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


def _path(kb, route: str) -> str:
    return {
        "conversations": "/v1/conversations",
        "chunks": f"/v1/documents/{kb.documents['Throttling'].id}/chunks",
        "bots": "/v1/bots",
    }[route]


def _get(client, key, path):
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.mark.parametrize("position", ["x", "1e5", "99999-01-01", "2026-13-45"])
@pytest.mark.parametrize("route", ["conversations", "chunks", "bots"])
def test_made_up_cursor_positions_are_a_400(client, kb, key, settings, route, position):
    settings.CHAT_PROVIDER = "extractive"
    chat(client, key, bot="helper", message="What is throttling?")
    path = _path(kb, route)
    res = _get(client, key, f"{path}?limit=1&cursor={_cursor('p=' + position)}")
    assert res.status_code == 400, res.content
    assert res.json()["error"] == {"type": "invalid_request", "message": CURSOR_SENTENCE}


def test_cursors_we_made_still_page_through(client, kb, key, settings, other_tenant, make_key):
    settings.CHAT_PROVIDER = "extractive"
    for question in ("What is throttling?", "What is pagination?", "What is a token?"):
        chat(client, key, bot="helper", message=question)
    build_kb(other_tenant)
    chat(client, make_key(other_tenant), bot="helper", message="Theirs")
    seen, cursor = [], None
    while True:
        res = _get(
            client, key, "/v1/conversations?limit=1" + (f"&cursor={cursor}" if cursor else "")
        )
        assert res.status_code == 200
        seen += [c["title"] for c in res.json()["data"]]
        cursor = res.json()["next"]
        if cursor is None:
            break
    assert sorted(seen) == ["What is a token?", "What is pagination?", "What is throttling?"]
    doc = kb.documents["Throttling"].id
    first = _get(client, key, f"/v1/documents/{doc}/chunks?limit=1").json()
    second = _get(client, key, f"/v1/documents/{doc}/chunks?limit=1&cursor={first['next']}")
    assert second.status_code == 200
    assert [c["index"] for c in first["data"] + second.json()["data"]] == [0, 1]


@pytest.mark.parametrize("limit", ["１０", "٣", " 10", "+5", "1.0", "0", "101"])
def test_limit_takes_ascii_digits_only(client, kb, key, limit):
    res = _get(client, key, f"/v1/conversations?limit={limit}")
    assert res.status_code == 400
    assert res.json()["error"]["message"] == "limit must be an integer between 1 and 100."


@pytest.mark.parametrize(
    "cursor", ["!!!", "%E2%98%83", _cursor("x=1"), _cursor("p=1")[:-1] + "!", "YQ"]
)
@pytest.mark.parametrize("route", ["conversations", "chunks", "bots"])
def test_cursors_that_are_not_ours_are_a_400_not_page_one(client, kb, key, route, cursor):
    """DRF's decoder skipped what is not base64: `?cursor=!!!` was read as no cursor, page one
    again (a client following it loops for ever)."""
    path = _path(kb, route)
    res = _get(client, key, f"{path}?limit=1&cursor={cursor}")
    assert res.status_code == 400, res.content
    assert res.json()["error"] == {"type": "invalid_request", "message": CURSOR_SENTENCE}
