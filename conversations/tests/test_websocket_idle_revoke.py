"""An idle WebSocket ends when its key stops working, without waiting for its next frame.

Repro (leakage review): a socket opened with a key stayed open after the key was revoked (or its
tenant suspended) until the client sent another chat; only streams were re-checked. Now every
socket is on the event loop's revocation watcher (one check per credential per
CHAT_REVALIDATE_SECONDS), and an idle one gets an ``authentication_failed`` error and close code
4401. (Real ASGI application, PostgreSQL and Redis.)
"""

from __future__ import annotations

import asyncio
import time

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from apikeys.models import APIKey
from apikeys.services import api_key_revoke
from chatbot_project.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


def _revoke_all(tenant) -> None:
    for row in APIKey.objects.filter(tenant=tenant):
        api_key_revoke(tenant=tenant, key=row)


def test_an_idle_socket_is_closed_once_its_key_is_revoked(kb, make_key, settings):
    settings.CHAT_REVALIDATE_SECONDS = 0.2
    key = make_key(kb.tenant)

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect())[0]
        await asyncio.sleep(0.5)  # a valid key: the socket stays open, nothing is sent
        assert await comm.receive_nothing(timeout=0.1)
        await sync_to_async(_revoke_all)(kb.tenant)
        started = time.monotonic()
        event = await comm.receive_json_from(timeout=5)
        closed = await comm.receive_output(timeout=5)
        return event, closed, time.monotonic() - started

    event, closed, waited = async_to_sync(run)()
    assert event == {
        "type": "error",
        "error": {
            "type": "authentication_failed",
            "message": "The API key is no longer valid (revoked, expired or its tenant suspended).",
        },
    }
    assert closed == {"type": "websocket.close", "code": 4401, "reason": "authentication_failed"}
    assert waited < 2


def test_a_suspended_tenant_closes_its_idle_sockets_and_no_one_elses(
    kb, make_key, other_tenant, settings
):
    from conversations.tests.factories import BotFactory

    settings.CHAT_REVALIDATE_SECONDS = 0.2
    BotFactory(tenant=other_tenant, slug="helper")
    key, other_key = make_key(kb.tenant), make_key(other_tenant)

    def suspend():
        kb.tenant.is_active = False
        kb.tenant.save()

    async def run():
        mine = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        theirs = WebsocketCommunicator(application, f"/ws/chat/?key={other_key}")
        assert (await mine.connect())[0]
        assert (await theirs.connect())[0]
        await sync_to_async(suspend)()
        event = await mine.receive_json_from(timeout=5)
        closed = await mine.receive_output(timeout=5)
        still_open = await theirs.receive_nothing(timeout=1)
        await theirs.disconnect()
        return event, closed, still_open

    event, closed, still_open = async_to_sync(run)()
    assert event["error"]["type"] == "authentication_failed"
    assert closed["code"] == 4401
    assert still_open
