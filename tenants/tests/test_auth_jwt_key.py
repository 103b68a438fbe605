"""Staff JWTs are signed with a key derived from SECRET_KEY, not with SECRET_KEY itself
(which also keys the API-key HMACs and signs Django's sessions), and a SECRET_KEY rotation
(the old key in SECRET_KEY_FALLBACKS) keeps staff signed in."""

from __future__ import annotations

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken

from tenants.jwt_keys import jwt_signing_key
from tenants.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


@pytest.fixture
def owner(tenant):
    return MembershipFactory(tenant=tenant, user=UserFactory(username="olga"), role="owner").user


def _get(access: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get("/v1/tenant").status_code


def _signed_with(key: str, owner) -> str:
    payload = AccessToken.for_user(owner).payload
    return jwt.encode(payload, key, algorithm="HS256")


def test_a_token_signed_with_the_raw_secret_key_is_refused(owner):
    assert jwt_signing_key(settings.SECRET_KEY) == api_settings.SIGNING_KEY
    assert settings.SECRET_KEY != api_settings.SIGNING_KEY
    assert _get(_signed_with(settings.SECRET_KEY, owner)) == 401
    assert _get(_signed_with(jwt_signing_key(settings.SECRET_KEY), owner)) == 200
    res = APIClient().post(
        "/v1/auth/token", {"username": "olga", "password": PASSWORD}, format="json"
    )
    assert res.status_code == 200
    access = res.json()["access"]
    jwt.decode(access, jwt_signing_key(settings.SECRET_KEY), algorithms=["HS256"])
    assert _get(access) == 200


def test_tokens_of_a_fallback_key_work_while_rotating(owner, settings):
    old = "old-secret-" + "y" * 50
    before = _signed_with(jwt_signing_key(old), owner)
    assert _get(before) == 401  # not a key of ours
    settings.SECRET_KEY_FALLBACKS = [old]
    assert _get(before) == 200
    assert _get(_signed_with(old, owner)) == 401  # the raw fallback key is not a JWT key
    assert _get(_signed_with(jwt_signing_key("z" * 60), owner)) == 401
    settings.SECRET_KEY_FALLBACKS = []
    assert _get(before) == 401
