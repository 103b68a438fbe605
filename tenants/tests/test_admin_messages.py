"""Messages and conversations in the admin are records of chats: read, redacted, deleted.

Repro (admin review): a message's change form edited its tokens, latency, model, finish
reason, citations and feedback, and moved it to another conversation or bot: GET /v1/usage
(which sums those tokens per bot and day) changed after the fact, 10 tokens becoming 999,999.
Messages and conversations could be added by hand: an added assistant message counted in
/v1/usage as tokens never spent (its conversation's message_count unchanged), an added
conversation was listed by GET /v1/conversations as started with the API key chosen, and a
conversation's message_count could be set to anything.
"""

from __future__ import annotations

import pytest

from conversations.models import Conversation, Message
from conversations.tests.factories import ConversationFactory, MessageFactory
from tenants.tests.admin_support import admin_url, as_posted

pytestmark = pytest.mark.django_db

RECORDED = {
    "prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15, "latency_ms": 120,
    "model": "gpt-4o-mini", "finish_reason": "stop", "refused": False, "error": "",
    "citations": [{"index": 1, "title": "Manual"}], "feedback_rating": "up",
    "feedback_comment": "helpful",
}  # fmt: skip


@pytest.fixture
def answer(acme):
    return MessageFactory(conversation=acme["conversation"], role="assistant", **RECORDED)


def _totals(api) -> dict:
    res = api.get("/v1/usage")
    assert res.status_code == 200, res.content
    return res.json()["totals"]


@pytest.mark.parametrize("who", ["staff", "superuser"])
def test_a_messages_record_is_read_only_and_its_text_can_be_redacted(
    request, who, acme, globex, answer, api
):
    client = request.getfixturevalue(who)
    before = _totals(api)
    form = client.get(admin_url(answer)).context["adminform"].form
    assert set(form.fields) == {"content", "metadata"}
    other = ConversationFactory(bot=acme["bot"])
    forged = {
        "prompt_tokens": "999999", "completion_tokens": "0", "total_tokens": "999999",
        "latency_ms": "1", "model": "other", "finish_reason": "error", "refused": "on",
        "citations": "[]", "feedback_rating": "down", "feedback_comment": "",
        "conversation": str(other.pk), "bot": "", "role": "user",
    }  # fmt: skip
    res = client.post(admin_url(answer), as_posted(form, content="[redacted]", **forged))
    assert res.status_code == 302, res.context["adminform"].form.errors
    stored = Message.objects.get(pk=answer.pk)
    assert stored.content == "[redacted]"
    assert {field: getattr(stored, field) for field in RECORDED} == RECORDED
    assert (stored.conversation_id, stored.bot_id, stored.role) == (
        acme["conversation"].pk, acme["bot"].pk, "assistant",
    )  # fmt: skip
    assert _totals(api) == before
    # The figures are still shown on the page.
    page = client.get(admin_url(answer)).content.decode()
    assert "gpt-4o-mini" in page
    assert "helpful" in page


@pytest.mark.parametrize("who", ["staff", "superuser"])
def test_messages_and_conversations_are_not_added_by_hand(request, who, acme, tenant, api):
    client = request.getfixturevalue(who)
    before = _totals(api)
    conversation = acme["conversation"]
    for path, data in (
        (
            "/admin/conversations/message/add/",
            {
                "tenant": str(tenant.pk), "conversation": str(conversation.pk),
                "role": "assistant", "content": "forged", "citations": "[]",
                "prompt_tokens": "5000", "completion_tokens": "0", "total_tokens": "5000",
                "metadata": "{}",
            },
        ),
        (
            "/admin/conversations/conversation/add/",
            {
                "tenant": str(tenant.pk), "bot": str(acme["bot"].pk), "title": "forged",
                "api_key": str(acme["apikey"].pk), "metadata": "{}", "message_count": "7",
            },
        ),
    ):  # fmt: skip
        assert client.get(path).status_code == 403
        assert client.post(path, data).status_code == 403
        changelist = client.get(path.removesuffix("add/"))
        assert not changelist.context["has_add_permission"]
    assert not Message.objects.filter(content="forged").exists()
    assert not Conversation.objects.filter(title="forged").exists()
    assert _totals(api) == before


def test_a_conversations_message_count_is_read_only(staff, acme):
    conversation = acme["conversation"]
    Conversation.objects.filter(pk=conversation.pk).update(message_count=2)
    form = staff.get(admin_url(conversation)).context["adminform"].form
    assert "message_count" not in form.fields
    res = staff.post(admin_url(conversation), as_posted(form, title="Renamed", message_count="99"))
    assert res.status_code == 302, res.context["adminform"].form.errors
    conversation.refresh_from_db()
    assert (conversation.title, conversation.message_count) == ("Renamed", 2)


def test_deleted_messages_keep_their_usage_and_leave_their_conversations_count(
    staff, acme, api, django_capture_on_commit_callbacks
):
    """Repro: a message deleted in the admin (its delete page, or "Delete selected") took its
    tokens out of GET /v1/usage, and its conversation's message_count stayed as it was."""
    bot = acme["bot"]
    one, two = ConversationFactory(bot=bot), ConversationFactory(bot=bot)
    turns = {}
    for conv in (one, two):
        turns[conv.pk] = [
            MessageFactory(conversation=conv, role="user"),
            MessageFactory(conversation=conv, role="assistant", **RECORDED),
        ]
    Conversation.objects.filter(pk__in=[one.pk, two.pk]).update(message_count=2)
    before = _totals(api)
    with django_capture_on_commit_callbacks(execute=True):
        res = staff.post(admin_url(turns[one.pk][1], "delete"), {"post": "yes"})
        assert res.status_code == 302
        res = staff.post(
            "/admin/conversations/message/",
            {
                "action": "delete_selected",
                "_selected_action": [str(m.pk) for m in turns[two.pk]],
                "post": "yes",
            },
        )
        assert res.status_code == 302
    assert not Message.objects.filter(conversation__in=[one, two], role="assistant").exists()
    assert _totals(api) == before
    counts = dict(Conversation.objects.values_list("pk", "message_count"))
    assert (counts[one.pk], counts[two.pk]) == (1, 0)
    assert api.get(f"/v1/conversations/{one.pk}").json()["message_count"] == 1


@pytest.mark.parametrize("who", ["staff", "superuser"])
def test_answers_can_be_filtered_by_their_rating(request, who, acme, globex, answer):
    """To review what users rated down (the changelist had no feedback filter)."""
    client = request.getfixturevalue(who)
    down = MessageFactory(
        conversation=acme["conversation"], role="assistant", feedback_rating="down"
    )
    MessageFactory(conversation=globex["conversation"], role="assistant", feedback_rating="down")
    res = client.get(admin_url(answer, "changelist") + "?feedback_rating__exact=down")
    assert res.status_code == 200
    offered = [spec.title for spec in res.context["cl"].filter_specs]
    assert "feedback rating" in offered, offered  # in the sidebar, not only by URL
    shown = {m.pk for m in res.context["cl"].result_list}
    assert down.pk in shown
    assert answer.pk not in shown  # rated up
    if who == "staff":  # another tenant's rows never, filter or not
        assert shown == {down.pk}
