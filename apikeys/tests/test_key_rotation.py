"""Rotating SECRET_KEY: API keys are HMAC-hashed with it, so a new SECRET_KEY alone broke every
key customers had embedded. With the old one in SECRET_KEY_FALLBACKS they keep working and are
re-hashed under the new key on first use, so the fallback can later be dropped."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apikeys import keys
from apikeys.models import APIKey
from apikeys.services import api_key_create
from tenants.auth import invalidate_key_cache

pytestmark = pytest.mark.django_db
OLD, NEW = "old-secret-" + "a" * 40, "new-secret-" + "b" * 40


def _status(raw: str) -> int:
    invalidate_key_cache()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client.get("/v1/bots").status_code


def test_keys_survive_a_secret_key_rotation_with_a_fallback(settings, tenant):
    settings.SECRET_KEY = OLD
    key, raw = api_key_create(tenant=tenant, name="embedded widget", permissions=["read"])
    assert _status(raw) == 200

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, []
    assert _status(raw) == 401  # rotated without a fallback: every key is lost

    settings.SECRET_KEY_FALLBACKS = [OLD]
    assert _status(raw) == 200
    stored = APIKey.objects.get(pk=key.pk).key_hash
    assert stored == keys.hash_key(raw, NEW)  # re-hashed under the new key

    settings.SECRET_KEY_FALLBACKS = []  # the rotation is over: the fallback can go
    assert _status(raw) == 200


def test_a_fallback_never_lets_a_wrong_key_in(settings, tenant):
    settings.SECRET_KEY = OLD
    _, raw = api_key_create(tenant=tenant, name="k", permissions=["read"])
    other = keys.generate()
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, [OLD]
    assert _status(raw[:12] + other[12:]) == 401  # right prefix, another key
