"""The revocation watcher: one check per credential per interval, however many chats are open,
and every chat of a revoked credential is woken."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from apikeys.models import APIKey
from conversations import revocation
from tenants.auth import resolve_context

pytestmark = pytest.mark.django_db


def test_many_chats_share_one_check_and_all_end_on_revocation(tenant, make_key, monkeypatch):
    alive_ctx = resolve_context({"X-API-Key": make_key(tenant, ("chat",))})
    doomed_ctx = resolve_context({"X-API-Key": make_key(tenant, ("chat",))})
    checked: list[int] = []
    real = revocation._still_valid

    def counting(contexts):
        checked.append(len(contexts))
        return real(contexts)

    monkeypatch.setattr(revocation, "_still_valid", counting)

    async def hundred_chats_of_two_credentials() -> None:
        watch = revocation.Watcher(0.05)
        events = [watch.watch(ctx) for ctx in (alive_ctx, doomed_ctx) for _ in range(50)]
        await asyncio.sleep(0.12)  # two rounds: nothing revoked yet
        assert not any(e.is_set() for e in events)

    async_to_sync(hundred_chats_of_two_credentials)()
    assert checked
    assert all(n == 2 for n in checked), checked  # 2 credentials per round, not 100 chats
    APIKey.objects.filter(pk=doomed_ctx.api_key.pk).update(revoked_at=timezone.now())

    async def after_revocation() -> None:
        # A new loop: the events above belong to the old one, so watch afresh here.
        w = revocation.Watcher(0.05)
        keep = [w.watch(alive_ctx) for _ in range(5)]
        gone = [w.watch(doomed_ctx) for _ in range(5)]
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in gone)), timeout=2)
        assert not any(e.is_set() for e in keep)
        for e in keep:
            w.unwatch(alive_ctx, e)
        await asyncio.sleep(0.1)  # the watcher stops once nothing is watched
        assert w._task is not None
        assert w._task.done()

    async_to_sync(after_revocation)()
