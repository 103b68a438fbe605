"""The key staff JWTs are signed with: derived from ``SECRET_KEY``, not ``SECRET_KEY`` itself.

``SECRET_KEY`` also keys the API-key HMACs (``apikeys``) and signs Django's sessions and
``salted_hmac`` values; JWTs were signed (HS256) with the raw key, so a weakness or misuse in
one use bore on the others. The JWT key is ``HMAC-SHA256(SECRET_KEY, JWT_KEY_PURPOSE)``
(domain separation), set as ``SIMPLE_JWT["SIGNING_KEY"]`` by the settings.

While ``SECRET_KEY`` is rotated, tokens signed under the key derived from one of
``SECRET_KEY_FALLBACKS`` are still accepted (``FallbackTokenBackend``, installed as simplejwt's
token backend by ``tenants.jwt_backend.install`` at start); new tokens are signed under the
current key only.

This module is imported by the settings: no Django imports here.
"""

from __future__ import annotations

import hashlib
import hmac

JWT_KEY_PURPOSE = b"chatbot-platform jwt signing key"


def jwt_signing_key(secret_key: str) -> str:
    """The HS256 key of staff JWTs for this ``SECRET_KEY`` (64 hex characters)."""
    return hmac.new(secret_key.encode(), JWT_KEY_PURPOSE, hashlib.sha256).hexdigest()
