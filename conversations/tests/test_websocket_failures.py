"""WebSocket /ws/chat/: a chat that fails unexpectedly still ends with an ``error`` event and
the socket serves the next chat (real ASGI application, real PostgreSQL, Redis and HTTP)."""

from __future__ import annotations

import logging

import psycopg
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import close_old_connections

from chatbot_project.asgi import application
from chatbot_project.testing import processes
from chatbot_project.testing.openai_stub import Script
from conversations.llm import MALFORMED_CHUNK_MESSAGE
from conversations.models import Message
from conversations.tests.conftest import PARTIAL_ANSWER
from conversations.tests.test_websocket import Q, _collect

pytestmark = pytest.mark.django_db(transaction=True)


def _cut_the_database_off() -> int:
    """Terminate this thread's database session (the one the consumer's queries use in tests:
    thread-sensitive), as PostgreSQL going away does to it. Only that one: terminating every
    session of the test database also killed the pooled connections other threads of earlier
    tests still hold, and the pool then had none to give the next chat (PoolTimeout)."""
    from django.db import connection

    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with psycopg.connect(processes.test_database_url(), autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchall()
    return sum(1 for (done,) in rows if done)


def test_database_lost_during_a_chat_is_an_unavailable_error_event_and_the_socket_goes_on(
    kb, make_key, openai_stub, caplog
):
    key = make_key(kb.tenant)
    openai_stub.script = Script(reply="Use AnonRateThrottle [1].")

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect())[0]
        await comm.send_json_to({"type": "chat", "bot": "helper", "message": Q})
        first = await _collect(comm)
        assert await sync_to_async(_cut_the_database_off)() >= 1
        await comm.send_json_to({"type": "chat", "bot": "helper", "message": Q})
        failed = await _collect(comm)  # (waited forever: the task died with no event)
        # The database is back: the broken connection is dropped, as the chat DB threads do.
        await sync_to_async(close_old_connections)()
        await comm.send_json_to({"type": "chat", "bot": "helper", "message": "And per user?"})
        after = await _collect(comm)
        await comm.disconnect()
        return first, failed, after

    try:
        with caplog.at_level(logging.WARNING):
            first, failed, after = async_to_sync(run)()
    finally:
        close_old_connections()  # (the test database's teardown needs a working connection)
    assert first[-1]["finish_reason"] == "stop"
    assert failed == [
        {
            "type": "error",
            "error": {
                "type": "unavailable",
                "message": "The database is unavailable right now; retry in a few seconds.",
            },
        }
    ]
    assert after[-1]["type"] == "end"
    assert after[-1]["finish_reason"] == "stop"
    logged = [r for r in caplog.records if r.name == "chatbot.websocket"]
    assert logged
    assert logged[0].exc_info is not None  # the traceback is in the log


def test_an_unexpected_error_while_answering_is_an_internal_error_event(
    kb, make_key, openai_stub, chat_bug, caplog
):
    key = make_key(kb.tenant)
    openai_stub.script = Script(reply="Use AnonRateThrottle [1].")

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect())[0]
        await comm.send_json_to({"type": "chat", "bot": "helper", "message": Q})
        failed = await _collect(comm)
        chat_bug.clear()  # the bug gone: the next chat works
        await comm.send_json_to({"type": "chat", "bot": "helper", "message": Q})
        after = await _collect(comm)
        await comm.disconnect()
        return failed, after

    with caplog.at_level(logging.WARNING):
        failed, after = async_to_sync(run)()
    assert [e["type"] for e in failed] == ["start", "citations", "error"]
    assert failed[-1]["error"] == {
        "type": "internal_error",
        "message": failed[-1]["error"]["message"],
    }
    assert failed[-1]["error"]["message"].endswith(".")
    answer = Message.objects.get(id=failed[0]["message_id"])  # the turn is stored, as failed
    assert (answer.role, answer.finish_reason) == ("assistant", "error")
    assert after[-1]["type"] == "end"
    assert after[-1]["finish_reason"] == "stop"
    # (logged where it happened: run_chat ends the chat with the error event itself)
    logged = [r for r in caplog.records if r.name in ("chatbot.chat", "chatbot.websocket")]
    assert logged
    assert logged[0].exc_info is not None


def test_a_malformed_upstream_chunk_is_an_upstream_error_event(kb, make_key, misshapen_upstream):
    """A stream chunk of the wrong shape (``choices`` a number) is the provider's failure, not
    ours: upstream_error (was internal_error, from a TypeError), the partial answer stored."""
    key = make_key(kb.tenant)

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect())[0]
        await comm.send_json_to({"type": "chat", "bot": "helper", "message": Q})
        failed = await _collect(comm)
        await comm.disconnect()
        return failed

    failed = async_to_sync(run)()
    assert [e["type"] for e in failed if e["type"] != "delta"] == ["start", "citations", "error"]
    assert failed[-1]["error"] == {"type": "upstream_error", "message": MALFORMED_CHUNK_MESSAGE}
    answer = Message.objects.get(id=failed[0]["message_id"])
    assert (answer.finish_reason, answer.error) == ("error", "upstream_error")
    assert answer.content == PARTIAL_ANSWER
