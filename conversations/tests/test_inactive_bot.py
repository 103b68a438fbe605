"""A deactivated bot (``is_active`` false) is a 404 that says so to a credential of its tenant
that may use it; to anyone else (another tenant, a key limited to other bots) it reads exactly
like a missing bot."""

from __future__ import annotations

import pytest

from bots.models import Bot
from chatbot_project.testing.openai_stub import Script
from conversations.tests.conftest import build_kb
from conversations.tests.helpers import chat

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::Warning")]

Q = "How do I limit anonymous clients per day?"
MISSING = "No such bot, or it is not visible to this credential."


def test_a_deactivated_bot_says_so_to_its_own_tenant_only(
    client, kb, make_key, other_tenant, openai_stub
):
    openai_stub.script = Script(reply="Use AnonRateThrottle [1].")
    other_bot = build_kb(kb.tenant, slug="other").bot
    key = make_key(kb.tenant)
    limited = make_key(kb.tenant, bots=[other_bot])
    foreign = make_key(other_tenant)
    status, _ = chat(client, key, bot="helper", message=Q)
    assert status == 200  # (this process now remembers the bot: selectors.with_bot)
    Bot.objects.filter(id=kb.bot.id).update(is_active=False)

    for ref in ("helper", str(kb.bot.id)):
        status, body = chat(client, key, bot=ref, message=Q)
        assert status == 404, body
        assert body["error"]["type"] == "not_found"
        assert "deactivated" in body["error"]["message"]

    res = client.post(
        "/v1/retrieve", {"bot": "helper", "query": Q}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )  # fmt: skip
    assert res.status_code == 404
    assert "deactivated" in res.json()["error"]["message"]

    _, missing = chat(client, key, bot="no-such-bot", message=Q)
    assert missing["error"]["message"] == MISSING
    for other_key in (limited, foreign):  # nothing to learn about a bot it cannot use
        for ref in ("helper", str(kb.bot.id)):
            status, body = chat(client, other_key, bot=ref, message=Q)
            assert (status, body) == (404, missing)
    assert len(openai_stub.chat_requests()) == 1
