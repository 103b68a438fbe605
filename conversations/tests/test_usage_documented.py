"""docs/api.md says what GET /v1/usage answers (API.md only says "tokens, messages and latency
per day and bot"): every field of a row and of the totals as the route answers them, and which
days `from` and `to` name: UTC days, which a test here checks against the route (a message at
23:30 UTC counts on its UTC day, whatever the reader's clock). It said nothing of either."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings

from conversations.tests.factories import BotFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

DOC = Path(settings.BASE_DIR) / "docs" / "api.md"


def _usage_bullet() -> str:
    text = DOC.read_text()
    found = re.search(r"^- \*\*Usage report\.\*\*(.*?)(?=^- \*\*|^#)", text, re.M | re.S)
    assert found, "docs/api.md has no 'Usage report' bullet under 'Beyond API.md'"
    return " ".join(found.group(1).split())


def test_the_docs_name_every_field_the_usage_route_answers(api, tenant):
    conv = ConversationFactory(bot=BotFactory(tenant=tenant, slug="helper"))
    MessageFactory(conversation=conv, role="assistant", total_tokens=5, latency_ms=10)
    body = api.get("/v1/usage").json()
    bullet = _usage_bullet()
    for name in [*body["data"][0], *body["totals"], "data", "totals", "from", "to"]:
        assert f"`{name}`" in bullet, name
    assert "UTC days" in bullet


def test_the_days_are_utc_days_as_documented(api, tenant):
    conv = ConversationFactory(bot=BotFactory(tenant=tenant, slug="helper"))
    late = MessageFactory(conversation=conv, role="assistant", total_tokens=7)
    type(late).objects.filter(pk=late.pk).update(
        created_at=datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    )
    day = api.get("/v1/usage?from=2026-11-24&to=2026-11-24").json()
    assert [(r["date"], r["total_tokens"]) for r in day["data"]] == [("2026-11-24", 7)]
    assert api.get("/v1/usage?from=2026-11-25&to=2026-11-25").json()["data"] == []
