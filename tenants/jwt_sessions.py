"""Sign-in sessions for staff JWTs, so that logging out also ends the access tokens.

simplejwt blacklists refresh tokens only: an access token stayed valid after logout until it
expired (``JWT_ACCESS_MINUTES``). Each sign-in now gets a session id, the ``sid`` claim, which
refresh rotation keeps and every access token copies from its refresh token. Logout records
the sid in Redis (``jwt:logout:<sid>``) for as long as the session's refresh token could live;
JWT authentication and the re-checks of open chats refuse tokens of a recorded session. Other
sign-ins of the same user (other devices) are not affected. Tokens issued before sessions
existed carry no sid and simply expire.

The playground's token for a signed-in admin session (``access_token_for_session``) carries a
sid kept in that Django session, and signing out of the admin ends it the same way
(``end_browser_session``, on ``user_logged_out``): it used to work on until it expired.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken

SID_CLAIM = "sid"
_KEY = "jwt:logout:{}"
_BROWSER_SID = "jwt_sid"  # the Django session's key for its tokens' sid


class SessionTokenObtainSerializer(TokenObtainPairSerializer):
    """``POST /v1/auth/token``: the usual pair, its refresh token carrying a new session id."""

    @classmethod
    def get_token(cls, user: Any) -> Any:
        token = super().get_token(user)
        token[SID_CLAIM] = uuid.uuid4().hex
        return token


class _SingleUseRefreshToken(RefreshToken):
    """Rotated once: of concurrent refreshes of one token, only the one whose blacklisting
    created the row goes on (simplejwt checks the blacklist first and blacklists later, so
    parallel refreshes each got a new pair: a stolen token raced with the real one forked the
    sign-in in two)."""

    def blacklist(self) -> Any:
        blacklisted, created = super().blacklist()
        if not created:
            raise TokenError("Token is blacklisted")
        return blacklisted, created


class SessionTokenRefreshSerializer(TokenRefreshSerializer):
    """``POST /v1/auth/token/refresh``: single-use rotation, and none for a logged-out session
    (a token that escaped the logout's blacklist, such as a fork from before this check, got a
    new pair whose access tokens were then refused)."""

    token_class = _SingleUseRefreshToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        data = super().validate(attrs)
        rotated = RefreshToken(data.get("refresh") or attrs["refresh"], verify=False)
        if session_ended(rotated.get(SID_CLAIM) or ""):
            raise TokenError("This sign-in session was logged out.")
        return data


def end_session(refresh: Any) -> None:
    """Record the session of a (valid) refresh token as logged out until it would expire."""
    sid = refresh.get(SID_CLAIM)
    if not sid:
        return
    from chatbot_project.redis_client import get_redis

    seconds = max(1, int(refresh["exp"] - time.time()) + 1)
    get_redis().set(_KEY.format(sid), 1, ex=seconds)


def access_token_for_session(request: Any) -> Any:
    """An access token for ``request.user`` of a signed-in browser session, with the session's
    own sid (made once and kept in the session), so that signing out ends it."""
    from rest_framework_simplejwt.tokens import AccessToken

    sid = request.session.get(_BROWSER_SID)
    if not sid:
        sid = request.session[_BROWSER_SID] = uuid.uuid4().hex
    token = AccessToken.for_user(request.user)
    token[SID_CLAIM] = sid
    return token


def end_browser_session(sender: Any, request: Any = None, **kwargs: Any) -> None:
    """``user_logged_out`` receiver: the tokens of ``access_token_for_session`` stop working.
    Redis errors propagate: the sign-out fails (and can be retried) rather than leave them."""
    session = getattr(request, "session", None)
    sid = session.get(_BROWSER_SID) if session is not None else None
    if not sid:
        return
    from rest_framework_simplejwt.settings import api_settings

    from chatbot_project.redis_client import get_redis

    seconds = int(api_settings.ACCESS_TOKEN_LIFETIME.total_seconds()) + 1
    get_redis().set(_KEY.format(sid), 1, ex=seconds)


def session_ended(sid: str) -> bool:
    """Whether the session ``sid`` was logged out (one Redis read; Redis errors propagate and
    become the usual 503)."""
    if not sid:
        return False
    from chatbot_project.redis_client import get_redis

    return bool(get_redis().exists(_KEY.format(sid)))
