"""simplejwt's token backend, also accepting tokens signed under ``SECRET_KEY_FALLBACKS``.

Staff JWTs are signed with a key derived from ``SECRET_KEY`` (``tenants.jwt_keys``). While
``SECRET_KEY`` is rotated (the old key in ``SECRET_KEY_FALLBACKS``), a token whose signature
fails under the current key is verified again under each fallback's derived key, so staff stay
signed in; new tokens are signed under the current key only. ``install`` (``TenantsConfig``)
puts it in place of ``rest_framework_simplejwt.state.token_backend``, which every token class
looks up when it signs or verifies.
"""

from __future__ import annotations

from typing import Any

import jwt
from django.conf import settings
from rest_framework_simplejwt import state
from rest_framework_simplejwt.backends import TokenBackend

from tenants.jwt_keys import jwt_signing_key


def _bad_signature(exc: BaseException) -> bool:
    return isinstance(exc.__cause__, jwt.InvalidSignatureError)


class FallbackTokenBackend(TokenBackend):
    def decode(self, token: Any, verify: bool = True) -> dict[str, Any]:
        try:
            return super().decode(token, verify)
        except Exception as exc:
            if not verify or not self.algorithm.startswith("HS") or not _bad_signature(exc):
                raise  # (expired, malformed...: the same under any key)
            for secret in settings.SECRET_KEY_FALLBACKS:
                older = TokenBackend(
                    self.algorithm,
                    jwt_signing_key(secret),
                    audience=self.audience,
                    issuer=self.issuer,
                    leeway=self.leeway,
                    json_encoder=self.json_encoder,
                )
                try:
                    return older.decode(token, verify)
                except Exception as again:
                    if not _bad_signature(again):
                        raise
            raise


def install() -> None:
    if not isinstance(state.token_backend, FallbackTokenBackend):
        state.token_backend.__class__ = FallbackTokenBackend
