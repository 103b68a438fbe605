"""A chat's lifecycle around its answer (in-process ASGI path, real HTTP to the local stub, real
Redis and PostgreSQL): the per-key stream slots, when the answer is stored, and the upstream
connection kept alive between chats."""

from __future__ import annotations

import pytest

from conversations.models import Message
from conversations.tests.helpers import chat

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::Warning")]

Q = "How do I limit anonymous clients per day?"


def test_concurrent_chats_per_key_are_capped_and_released(
    client, kb, make_key, openai_stub, settings
):
    from asgiref.sync import async_to_sync

    from conversations.slots import acquire_stream_slot, release_stream_slot
    from tenants.auth import authenticate

    settings.MAX_CONCURRENT_STREAMS_PER_KEY = 2
    key = make_key(kb.tenant)
    context = authenticate({"Authorization": f"Bearer {key}"})
    held = [async_to_sync(acquire_stream_slot)(context) for _ in range(2)]
    status, body = chat(client, key, bot="helper", message=Q)
    assert status == 429
    assert body["error"]["type"] == "rate_limited"
    other_key = make_key(kb.tenant)
    assert chat(client, other_key, bot="helper", message=Q)[0] == 200
    async_to_sync(release_stream_slot)(context, held[0])
    assert chat(client, key, bot="helper", message=Q)[0] == 200  # JSON chats give it back
    status, events = chat(client, key, bot="helper", message=Q, stream=True)
    assert events[-1][0] == "end"
    assert chat(client, key, bot="helper", message=Q)[0] == 200  # so do streams


def test_upstream_connection_is_kept_alive_between_chats(key, openai_stub):
    """Chats in one event loop reuse the upstream connection (no new TCP/TLS set-up per chat),
    and a stream cut short by the client does not leave a half-read connection in the pool."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    async def three_chats() -> list[int]:
        client, codes = AsyncClient(), []
        for stream in (False, True, False):
            res = await client.post(
                "/v1/chat", {"bot": "helper", "message": Q, "stream": stream},
                content_type="application/json", headers={"Authorization": f"Bearer {key}"},
            )  # fmt: skip
            if stream:
                [part async for part in res.streaming_content]
            codes.append(res.status_code)
        return codes

    openai_stub.script.reply = "Use AnonRateThrottle [1]."
    assert async_to_sync(three_chats)() == [200, 200, 200]
    peers = [r.peer for r in openai_stub.chat_requests()]
    assert len(peers) == 3
    assert len(set(peers)) == 1, peers


def test_chat_slots_of_a_crashed_process_expire(kb, make_key, settings):
    """A slot older than STREAM_SLOT_TTL (its process died mid-chat) no longer counts."""
    import time

    from asgiref.sync import async_to_sync

    from chatbot_project.errors import APIError
    from chatbot_project.redis_client import get_redis
    from conversations.slots import STREAM_SLOT_TTL, _slot_key, acquire_stream_slot
    from tenants.auth import authenticate

    settings.MAX_CONCURRENT_STREAMS_PER_KEY = 1
    context = authenticate({"Authorization": f"Bearer {make_key(kb.tenant)}"})
    key = _slot_key(context)
    get_redis().zadd(key, {"crashed": time.time() - STREAM_SLOT_TTL - 5})
    held = async_to_sync(acquire_stream_slot)(context)
    assert held
    assert get_redis().zrange(key, 0, -1) == [held.member.encode()]
    assert 0 < get_redis().ttl(key) <= STREAM_SLOT_TTL
    with pytest.raises(APIError) as refused:
        async_to_sync(acquire_stream_slot)(context)
    assert refused.value.status_code == 429
    assert get_redis().zcard(key) == 1


@pytest.mark.parametrize("cut_after", [None, 2], ids=["end", "error"])
def test_answer_is_stored_before_the_last_event_goes_out(key, openai_stub, cut_after):
    """A client that has seen `end` (or `error`) finds the answer stored: it may fetch the
    conversation or send the next turn at once (the save used to run after the last event)."""
    from asgiref.sync import async_to_sync, sync_to_async
    from django.test import AsyncClient

    from conversations.tests.helpers import parse_sse

    def stored() -> list[tuple[str, str]]:
        answers = Message.objects.filter(role="assistant")
        return list(answers.values_list("content", "finish_reason"))

    async def stream() -> tuple[str, list]:
        res = await AsyncClient().post(
            "/v1/chat", {"bot": "helper", "message": Q, "stream": True},
            content_type="application/json", headers={"Authorization": f"Bearer {key}"},
        )  # fmt: skip
        raw = b""
        async for part in res.streaming_content:
            raw += part
            if b"event: end" in raw or b"event: error" in raw:
                seen = await sync_to_async(stored)()  # before the stream is read any further
                await res.streaming_content.aclose()
                return raw.decode(), seen
        raise AssertionError(f"no end or error event in {raw!r}")

    openai_stub.script.reply = "one two three four"
    openai_stub.script.cut_after = cut_after
    raw, seen = async_to_sync(stream)()
    last = parse_sse(raw)[-1][0]
    if cut_after is None:
        assert (last, seen) == ("end", [("one two three four", "stop")])
    else:
        assert (last, seen) == ("error", [("one two", "error")])


@pytest.mark.parametrize("route", ["/v1/chat", "/v1/openai/chat/completions"])
def test_stream_never_begun_gives_its_chat_slot_back(kb, make_key, openai_stub, settings, route):
    """Django's handler closes the response when the client left before the body began: the
    SSE generator never ran (nor its finally), the slot must still come back at once (it used
    to be held until STREAM_SLOT_TTL) and the turn must still be stored (it was lost)."""
    from asgiref.sync import async_to_sync
    from django.core.signals import request_finished
    from django.db import close_old_connections
    from django.test import AsyncRequestFactory

    from conversations.openai_compat import completions_view
    from conversations.streaming import chat_view

    settings.MAX_CONCURRENT_STREAMS_PER_KEY = 1
    key = make_key(kb.tenant)
    if route == "/v1/chat":
        view, body = chat_view, {"bot": "helper", "message": Q, "stream": True}
    else:
        view = completions_view
        body = {"model": "helper", "messages": [{"role": "user", "content": Q}], "stream": True}

    def post():
        request = AsyncRequestFactory().post(
            route, body, content_type="application/json",
            headers={"Authorization": f"Bearer {key}"},
        )  # fmt: skip
        return async_to_sync(view)(request)

    first = post()
    assert first.status_code == 200
    assert first.streaming
    assert post().status_code == 429  # the slot is held while the stream is pending
    # What Django's handler does when the client is gone before the body began (without its
    # request_finished connection cleanup, as Django's test client, or the test loses its DB).
    request_finished.disconnect(close_old_connections)
    try:
        first.close()
        # The chat that never ran is stored: the question, and an empty `cancelled` answer.
        answer = Message.objects.get(role="assistant")
        assert (answer.content, answer.finish_reason) == ("", "cancelled")
        assert Message.objects.get(role="user", conversation_id=answer.conversation_id).content == Q
        second = post()
        assert second.status_code == 200
        second.close()
    finally:
        request_finished.connect(close_old_connections)
