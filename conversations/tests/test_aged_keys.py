"""An API key verified in this process longer ago than API_KEY_CACHE_SECONDS is not rebuilt
(three queries) but confirmed: the fingerprint of its rows rides the retrieval's own round trip
in the fast lane, or is re-read alone elsewhere (tenants.auth.KeyCheck). Whatever changed since
(revoked, suspended tenant, other bots) must show at once, exactly as Django answers it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apikeys import authentication, keys
from apikeys.models import APIKey
from chatbot_project import pgpipe, redis_client
from conversations.tests.conftest import build_kb
from conversations.tests.test_fastlane import Q, _django, _post, _same
from tenants import auth
from tenants.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)


def _age(raw: str, seconds: float) -> None:
    """Make this process's cache entry for the key ``seconds`` older."""
    digest = keys.hash_key(raw)
    at, context, fingerprint = auth._cache[digest]
    auth._cache[digest] = (at - seconds, context, fingerprint)


@pytest.fixture
def rebuilds(monkeypatch):
    """Count the contexts built from the database (three queries each)."""
    calls: list[str] = []
    real = authentication.context_for_key

    def counting(raw):
        calls.append(raw)
        return real(raw)

    monkeypatch.setattr(authentication, "context_for_key", counting)
    return calls


@pytest.fixture
def round_trips(monkeypatch):
    calls: list[int] = []
    real = pgpipe.run_pipelined

    def counting(raw, statements, **kw):
        calls.append(len(statements))
        return real(raw, statements, **kw)

    monkeypatch.setattr(pgpipe, "run_pipelined", counting)
    return calls


def test_an_aged_key_is_confirmed_in_the_searchs_round_trip(
    kb, make_key, served, rebuilds, round_trips
):
    key = make_key(kb.tenant, ("chat",))
    assert _post(key, {"bot": "helper", "query": Q}).status_code == 200  # bot, embedding cached
    round_trips.clear()
    first = _post(key, {"bot": "helper", "query": Q})
    assert first.status_code == 200
    assert len(rebuilds) == 1
    warm = list(round_trips)
    context = auth._cache[keys.hash_key(key)][1]

    _age(key, 30)
    round_trips.clear()
    again = _post(key, {"bot": "helper", "query": Q})
    assert again.status_code == 200
    assert again.json() == first.json()
    assert served == [1, 1, 1]
    assert len(rebuilds) == 1  # confirmed, not rebuilt
    assert round_trips == [warm[0] + 1]  # one round trip still: the key's statement rode it
    at, cached, _ = auth._cache[keys.hash_key(key)]
    assert cached is context
    assert 0 <= auth.time.monotonic() - at < 5  # renewed


@pytest.mark.parametrize("change", ["revoked", "expired", "tenant suspended", "deleted"])
def test_a_key_changed_elsewhere_is_refused_at_once_as_django_words_it(
    kb, make_key, served, change
):
    key = make_key(kb.tenant, ("chat",))
    assert _post(key, {"bot": "helper", "query": Q}).status_code == 200
    rows = APIKey.objects.filter(prefix=keys.public_prefix(key))
    # Another process makes the change: nothing here is told.
    if change == "revoked":
        rows.update(revoked_at=timezone.now())
    elif change == "expired":
        rows.update(expires_at=timezone.now() - timedelta(seconds=1))
    elif change == "tenant suspended":
        Tenant.objects.filter(pk=kb.tenant.pk).update(is_active=False)
    else:
        rows.delete()
    _age(key, 30)
    fast = _post(key, {"bot": "helper", "query": Q})
    assert fast.status_code == 401
    assert served == [1]  # handed to Django
    _same(fast, _post(key, {"bot": "helper", "query": Q}, app=_django()))


def test_a_key_limited_elsewhere_to_other_bots_sees_the_limit_at_once(
    kb, make_key, served, rebuilds
):
    other = build_kb(kb.tenant, slug="other")
    key = make_key(kb.tenant, ("chat",))
    assert _post(key, {"bot": "helper", "query": Q}).status_code == 200
    row = APIKey.objects.get(prefix=keys.public_prefix(key))
    row.bots.set([other.bot])  # only the many-to-many rows change
    APIKey.objects.filter(pk=row.pk).update(limited_to_bots=True)
    _age(key, 30)
    fast = _post(key, {"bot": "helper", "query": Q})
    assert fast.status_code == 404
    assert served == [1]
    assert len(rebuilds) == 2
    assert _post(key, {"bot": "other", "query": Q}).status_code == 200
    _same(fast, _post(key, {"bot": "helper", "query": Q}, app=_django()))


def test_a_tenant_change_elsewhere_rebuilds_the_context(kb, make_key, served, rebuilds):
    key = make_key(kb.tenant, ("chat",), rate_limit="")
    assert _post(key, {"bot": "helper", "query": Q}).headers["X-RateLimit-Limit"] != "7"
    Tenant.objects.filter(pk=kb.tenant.pk).update(default_rate_limit="7/m")
    _age(key, 30)
    res = _post(key, {"bot": "helper", "query": Q})
    assert res.status_code == 200
    assert res.headers["X-RateLimit-Limit"] == "7"
    assert len(rebuilds) == 2


def test_an_entry_past_the_confirmable_age_is_rebuilt(kb, make_key, served, rebuilds):
    key = make_key(kb.tenant, ("chat",))
    assert _post(key, {"bot": "helper", "query": Q}).status_code == 200
    _age(key, auth.CONFIRMABLE_SECONDS + 1)
    assert _post(key, {"bot": "helper", "query": Q}).status_code == 200
    assert len(rebuilds) == 2
    assert served == [1, 1]


def test_confirming_records_use_at_most_once_a_minute(kb, make_key, rebuilds):
    key = make_key(kb.tenant, ("chat",))
    assert auth.resolve_context({"X-API-Key": key}) is not None
    rows = APIKey.objects.filter(prefix=keys.public_prefix(key))
    long_ago = timezone.now() - timedelta(minutes=5)
    rows.update(last_used_at=long_ago)  # not in the fingerprint: the entry stays confirmable
    auth._cache[keys.hash_key(key)][1].api_key.last_used_at = long_ago
    _age(key, 30)
    assert auth.resolve_context({"X-API-Key": key}) is not None
    assert len(rebuilds) == 1
    used = rows.get().last_used_at
    assert used > long_ago
    _age(key, 30)
    assert auth.resolve_context({"X-API-Key": key}) is not None
    assert rows.get().last_used_at == used


def test_djangos_path_confirms_alone_and_rebuilds_only_on_change(kb, make_key, rebuilds):
    key = make_key(kb.tenant, ("chat", "read"))
    context = auth.resolve_context({"X-API-Key": key})
    _age(key, 30)
    assert auth.resolve_context({"X-API-Key": key}) is context
    assert len(rebuilds) == 1
    APIKey.objects.filter(prefix=keys.public_prefix(key)).update(permissions=["read"])
    _age(key, 30)
    fresh = auth.resolve_context({"X-API-Key": key})
    assert fresh is not context
    assert fresh.permissions == frozenset({"read"})
    assert len(rebuilds) == 2


def test_statements_riding_together_each_get_their_rows(db):
    with pgpipe.riding(("SELECT 1", [])) as one, pgpipe.riding(("SELECT 2", [])) as two:
        assert pgpipe.run_on_django_connection([("SELECT 3", [])]) == [[(3,)]]
    assert (one.rows, two.rows) == ([(1,)], [(2,)])
    with pgpipe.riding(("SELECT 1", [])) as unsent:
        pass
    assert unsent.rows is None
    assert pgpipe.run_on_django_connection([("SELECT 4", [])]) == [[(4,)]]


def test_a_revoked_aged_key_over_its_rate_limit_gets_djangos_401_not_a_429(kb, make_key, served):
    """The lane counts the hit on the event loop before the DB hop; its 429 must still wait for
    the aged key's confirmation, as the whole answer does."""
    key = make_key(kb.tenant, ("chat",), rate_limit="1/m")
    assert _post(key, {"bot": "helper", "query": Q}).status_code == 200
    assert _post(key, {"bot": "helper", "query": Q}).status_code == 429  # a fresh key: the lane
    APIKey.objects.filter(prefix=keys.public_prefix(key)).update(revoked_at=timezone.now())
    _age(key, 30)
    fast = _post(key, {"bot": "helper", "query": Q})
    assert fast.status_code == 401
    assert served == [1, 1]  # the third was handed to Django
    _same(fast, _post(key, {"bot": "helper", "query": Q}, app=_django()))


def test_redis_unreachable_is_a_503_from_the_lane(kb, make_key, served, settings):
    key = make_key(kb.tenant, ("chat",))
    assert _post(key, {"bot": "helper", "query": Q}).status_code == 200
    settings.REDIS_URL = "redis://127.0.0.1:1/3"  # nothing listens on port 1
    redis_client.get_redis.cache_clear()  # Django's path: the process's client, made again
    try:
        res = _post(key, {"bot": "helper", "query": Q})
        assert res.status_code == 503
        assert res.json()["error"]["type"] == "unavailable"
        assert served == [1, 1]
        _same(res, _post(key, {"bot": "helper", "query": Q}, app=_django()))
    finally:
        redis_client.get_redis.cache_clear()
