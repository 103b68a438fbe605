"""GET /v1/usage with `from` after `to` is a 400 saying so (it answered an empty list, which
reads as "no usage"); a one-day range and open ranges still answer."""

from __future__ import annotations

import pytest
from django.utils import timezone

from conversations.tests.helpers import chat

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::Warning")]


def _usage(client, key, query):
    return client.get(f"/v1/usage{query}", HTTP_AUTHORIZATION=f"Bearer {key}")


def test_from_after_to_is_a_400(client, key):
    res = _usage(client, key, "?from=2026-12-03&to=2026-12-01")
    assert res.status_code == 400
    assert res.json()["error"] == {
        "type": "invalid_request",
        "message": "`from` (2026-12-03) is after `to` (2026-12-01); swap them.",
    }


def test_one_day_and_open_ranges_answer(client, key, settings, other_tenant, make_key):
    settings.CHAT_PROVIDER = "extractive"
    chat(client, key, bot="helper", message="What is throttling?")
    today = timezone.now().date().isoformat()
    for query in (f"?from={today}&to={today}", f"?from={today}", f"?to={today}", ""):
        res = _usage(client, key, query)
        assert res.status_code == 200, query
        assert res.json()["totals"]["messages"] == 2, query
    assert _usage(client, make_key(other_tenant), "").json()["totals"]["messages"] == 0
