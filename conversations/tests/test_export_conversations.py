"""manage.py export_conversations: an end user's conversations (right of access) as JSON Lines.

Repro (data-request review): answering an access request meant paging through
`GET /v1/conversations?user=` and fetching each conversation; nothing wrote a tenant's or a
user's conversations out. Now one command, streamed a batch at a time, one conversation per line
with its messages, citations, feedback and usage under stable keys.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from conversations import export
from conversations.models import Conversation
from conversations.tests.factories import BotFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

CONVERSATION_KEYS = {
    "id", "bot", "bot_slug", "user", "scope", "title", "created_at", "updated_at",
    "message_count", "metadata", "messages",
}  # fmt: skip
MESSAGE_KEYS = {
    "id", "role", "content", "citations", "usage", "latency_ms", "model", "finish_reason",
    "refused", "feedback", "metadata", "created_at",
}  # fmt: skip


def _conversation(bot, user: str, *, days: int = 0, text: str = "How do I limit clients?"):
    conv = ConversationFactory(bot=bot, user=user, message_count=2, metadata={"page": "/faq"})
    MessageFactory(conversation=conv, role="user", content=text, metadata={"lang": "en"})
    MessageFactory(
        conversation=conv, role="assistant", content="Use throttling [1].", prompt_tokens=10,
        completion_tokens=5, total_tokens=15, latency_ms=120, model="stub-model",
        finish_reason="stop", citations=[{"index": 1, "document_title": "Throttling"}],
        feedback_rating="down", feedback_comment="Too short.", feedback_at=timezone.now(),
    )  # fmt: skip
    if days:
        Conversation.objects.filter(pk=conv.pk).update(
            updated_at=timezone.now() - timedelta(days=days)
        )
    return conv


def _export(*args: str) -> tuple[list[dict], str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export_conversations", *args, stdout=out, stderr=err)
    text = out.getvalue()
    rows = [] if "--output" in args else [json.loads(line) for line in text.splitlines()]
    return rows, text, err.getvalue()


def test_lines_parse_and_carry_the_messages_as_stored(tenant, other_tenant):
    bot = BotFactory(tenant=tenant, slug="helper")
    conv = _conversation(bot, "alice")
    _conversation(bot, "bob")
    _conversation(BotFactory(tenant=other_tenant), "alice")  # another tenant's alice
    rows, _, err = _export("--tenant", "acme", "--user", "alice")
    assert err == ""  # standard output: the lines alone
    (row,) = rows
    assert set(row) == CONVERSATION_KEYS
    assert (row["id"], row["user"], row["bot_slug"]) == (str(conv.id), "alice", "helper")
    assert row["metadata"] == {"page": "/faq"}
    question, answer = row["messages"]
    assert set(question) == set(answer) == MESSAGE_KEYS
    stored = list(conv.messages.order_by("created_at", "id"))
    assert [m["id"] for m in row["messages"]] == [str(m.id) for m in stored]
    assert [m["content"] for m in row["messages"]] == [m.content for m in stored]
    assert question["metadata"] == {"lang": "en"}
    assert answer["citations"] == [{"index": 1, "document_title": "Throttling"}]
    assert answer["usage"] == {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    assert answer["feedback"]["rating"] == "down"
    assert answer["feedback"]["comment"] == "Too short."
    assert row["created_at"].endswith("Z")
    # The whole tenant without --user, its own conversations only.
    assert sorted(r["user"] for r in _export("--tenant", "acme")[0]) == ["alice", "bob"]


def test_since_keeps_the_conversations_active_within_it(tenant):
    bot = BotFactory(tenant=tenant)
    recent = _conversation(bot, "alice")
    _conversation(bot, "alice", days=40)
    rows, _, _ = _export("--tenant", "acme", "--user", "alice", "--since", "30d")
    assert [r["id"] for r in rows] == [str(recent.id)]
    assert len(_export("--tenant", "acme", "--user", "alice", "--since", "60d")[0]) == 2


def test_it_reads_in_batches_and_loses_no_conversation_on_equal_timestamps(tenant, monkeypatch):
    monkeypatch.setattr(export, "BATCH", 2)
    bot = BotFactory(tenant=tenant)
    convs = [_conversation(bot, "alice") for _ in range(5)]
    same = timezone.now() - timedelta(hours=1)
    Conversation.objects.filter(pk__in=[c.pk for c in convs[1:4]]).update(created_at=same)
    rows, _, _ = _export("--tenant", "acme")
    assert sorted(r["id"] for r in rows) == sorted(str(c.id) for c in convs)
    assert all(len(r["messages"]) == 2 for r in rows)


def test_output_writes_the_same_lines_to_a_file_with_progress(tenant, tmp_path):
    bot = BotFactory(tenant=tenant)
    for _ in range(3):
        _conversation(bot, "alice")
    _, piped, _ = _export("--tenant", "acme")
    target = tmp_path / "alice.jsonl"
    _, out, err = _export("--tenant", "acme", "--output", str(target))
    assert out.strip() == f"Wrote 3 conversation(s) (6 messages) to {target}."
    assert "export: 100%" in err, err
    assert "3/3" in err, err
    assert target.read_text() == piped
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--tenant", "acme", "--user", ""], "--user is empty"),
        (["--tenant", "nope"], "No tenant 'nope'"),
        (["--tenant", "acme", "--since", "3m"], "--since '3m': 'm' could mean"),
        (["--tenant", "acme", "--since", "soon"], "--since 'soon': use a number"),
    ],
)
def test_bad_arguments_are_a_sentence(tenant, args, words):
    with pytest.raises(CommandError, match=words):
        _export(*args)


def test_an_output_in_a_missing_directory_is_a_sentence(tenant, tmp_path):
    with pytest.raises(CommandError, match="Cannot write"):
        _export("--tenant", "acme", "--output", str(tmp_path / "no" / "such.jsonl"))


@pytest.mark.django_db(transaction=True)
def test_a_reader_that_goes_away_ends_the_export_quietly(tenant):
    """`manage.py export_conversations ... | head -1`: the reader closes the pipe after the
    first line; the export stops with status 141 and no traceback (manage.py)."""
    from chatbot_project.testing.processes import BASE_DIR, child_env

    bot = BotFactory(tenant=tenant)
    for _ in range(40):  # ~200 KB, past the pipe's buffer
        _conversation(bot, "alice", text="x" * 5000)
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "export_conversations", "--tenant", "acme"],
        cwd=BASE_DIR, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    first = json.loads(proc.stdout.readline())
    assert first["user"] == "alice"
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert b"Traceback" not in err, err.decode()
    assert proc.returncode == 141
