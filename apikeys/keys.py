"""Key format: ``cb_`` + 43 base62 chars (256 random bits) + 6-char checksum.

The checksum (CRC32 of the body, base62) lets secret scanners and our own auth reject typos and
non-keys without a database lookup. Stored: the first 12 characters (public prefix) and an
HMAC-SHA256 of the whole key keyed with SECRET_KEY, compared in constant time (a key stored
under one of SECRET_KEY_FALLBACKS matches too, and is re-hashed under SECRET_KEY).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import zlib

from django.conf import settings

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BODY_LEN = 43
CHECK_LEN = 6
PREFIX_LEN = 12


def _b62(number: int, width: int) -> str:
    out = []
    for _ in range(width):
        number, rem = divmod(number, 62)
        out.append(ALPHABET[rem])
    return "".join(reversed(out))


def _checksum(body: str) -> str:
    return _b62(zlib.crc32(body.encode()), CHECK_LEN)


def generate() -> str:
    body = _b62(secrets.randbits(256), BODY_LEN)
    return f"{settings.API_KEY_PREFIX}{body}{_checksum(body)}"


def looks_valid(key: str) -> bool:
    prefix = settings.API_KEY_PREFIX
    if not key.startswith(prefix) or len(key) != len(prefix) + BODY_LEN + CHECK_LEN:
        return False
    rest = key[len(prefix) :]
    if any(c not in ALPHABET for c in rest):
        return False
    return hmac.compare_digest(_checksum(rest[:BODY_LEN]), rest[BODY_LEN:])


def public_prefix(key: str) -> str:
    return key[:PREFIX_LEN]


def hash_key(key: str, secret: str | None = None) -> str:
    secret = settings.SECRET_KEY if secret is None else secret
    return hmac.new(secret.encode(), key.encode(), hashlib.sha256).hexdigest()


def matches(key: str, stored_hash: str) -> bool:
    """Whether ``key`` is the key stored as ``stored_hash`` under SECRET_KEY."""
    return hmac.compare_digest(hash_key(key), stored_hash)


def matches_fallback(key: str, stored_hash: str) -> bool:
    """Whether ``key`` was stored under one of ``SECRET_KEY_FALLBACKS`` (a key rotation in
    progress): the caller re-hashes it under the current SECRET_KEY."""
    return any(
        hmac.compare_digest(hash_key(key, old), stored_hash)
        for old in getattr(settings, "SECRET_KEY_FALLBACKS", ())
    )
