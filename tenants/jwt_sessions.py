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

Changing a user's password (themself, an admin, ``changepassword``) ends their sign-ins, as it
ends their Django sessions: tokens carry a stamp of the password hash (``pwd``,
``password_stamp``) that must still match. Refresh rotation renews a refresh token's lifetime,
so a stolen one lived on indefinitely, password change or not. Tokens from before the stamp
get it at their next refresh.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import update_last_login
from django.utils.crypto import constant_time_compare, salted_hmac
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import (
    TokenBlacklistSerializer,
    TokenObtainPairSerializer,
    TokenObtainSerializer,
    TokenRefreshSerializer,
)
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken

from tenants.one_time_codes import WrongCode, check_one_time_code

SID_CLAIM = "sid"
PASSWORD_CLAIM = "pwd"  # noqa: S105 (a claim name)
AUTH_TIME_CLAIM = "auth_time"  # when the password was given (OpenID Connect's name for it)
_KEY = "jwt:logout:{}"
_BROWSER_SID = "jwt_sid"  # the Django session's key for its tokens' sid


class SessionTokenObtainSerializer(TokenObtainPairSerializer):
    """``POST /v1/auth/token``: the usual pair, its refresh token carrying a new session id.
    A user with a confirmed TOTP device (``otp_enroll``) must also send ``otp``, the current
    code: the admin asks for it, and the password alone gave the same powers over REST (API
    keys, tenant settings) to whoever had guessed or phished it."""

    otp = serializers.CharField(required=False, allow_blank=True, max_length=16)
    # simplejwt's "No active account found with the given credentials" (no full stop, and
    # "account" where the user typed a user name); which of the two was wrong stays unsaid.
    default_error_messages = {
        "no_active_account": "Wrong username or password, or the account is deactivated."
    }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The password first (a wrong one says only that), then the code, and only then the
        # pair (TokenObtainPairSerializer's steps): it minted and recorded a refresh token
        # before the code was checked, for sign-ins that then failed it.
        # Failed passwords and wrong codes count per username too (tenants.sign_in_limit): the
        # place is held until the code is checked, so that parallel code guesses with the
        # password are bounded as password guesses are. A token issued clears the count;
        # anything else gives the place back.
        from tenants import sign_in_limit

        attempt = sign_in_limit.take(attrs.get(self.username_field))
        if attempt.refused:
            raise attempt.error()
        try:
            data = TokenObtainSerializer.validate(self, attrs)
        except AuthenticationFailed:
            attempt.failed()  # a wrong password (or no such account): counted
            raise
        except BaseException:
            attempt.give_back()
            raise
        try:
            check_one_time_code(self.user, str(attrs.get("otp") or "").strip())
        except WrongCode:
            attempt.failed()  # a code checked and wrong: counted as a wrong password is
            raise
        except BaseException:
            attempt.give_back()  # no code (asked for), or codes held back (none checked)
            raise
        try:
            check_has_tenant(self.user)
            refresh = self.get_token(self.user)
        except BaseException:
            attempt.give_back()
            raise
        data["refresh"], data["access"] = str(refresh), str(refresh.access_token)
        attempt.succeeded()
        if api_settings.UPDATE_LAST_LOGIN:
            update_last_login(None, self.user)
        return data

    @classmethod
    def get_token(cls, user: Any) -> Any:
        token = super().get_token(user)
        token[SID_CLAIM] = uuid.uuid4().hex
        token[PASSWORD_CLAIM] = password_stamp(user.password)
        token[AUTH_TIME_CLAIM] = int(time.time())
        _cap_expiry(token)
        return token


def check_has_tenant(user: Any) -> None:
    """Refuse (401) a sign-in of a user with no membership in an active tenant: every route a
    staff token opens acts in one of the user's tenants (``tenants.auth._context_for_jwt``),
    superusers' included, so the tokens were refused everywhere with "This user belongs to no
    active tenant". Checked after the password and the code, so it tells a guesser nothing."""
    from tenants.models import Membership

    if Membership.objects.filter(user=user, tenant__is_active=True).exists():
        return
    where = (
        " Superusers without a membership work in the admin (/admin/)."
        if user.is_superuser
        else " Ask an owner of your tenant (or an operator) to add you to one."
    )
    raise AuthenticationFailed(
        "This account belongs to no active tenant (none, or all suspended), and staff tokens "
        "act in a tenant, so none is issued." + where
    )


class SignInExpired(TokenError):
    """A sign-in past ``JWT_SESSION_DAYS``: the refresh route says so (not its generic 401)."""


def _cap_expiry(refresh: Any) -> None:
    """Refuse (``TokenError``) a refresh token whose sign-in is older than ``JWT_SESSION_DAYS``,
    and keep its expiry within that. Rotation renewed a refresh token's lifetime at every
    refresh, so a sign-in (or a stolen refresh token used now and then) lasted for ever. A token
    from before the claim counts from its first refresh since."""
    days = settings.JWT_SESSION_DAYS
    signed_in = refresh.get(AUTH_TIME_CLAIM)
    if not isinstance(signed_in, int):
        signed_in = refresh[AUTH_TIME_CLAIM] = int(time.time())
    if not days:
        return
    ends = signed_in + days * 86_400
    if time.time() >= ends:
        raise SignInExpired(
            f"This sign-in is over {days} days old (JWT_SESSION_DAYS); sign in again."
        )
    if refresh.get("exp", ends) > ends:
        refresh["exp"] = ends


def password_stamp(password_hash: str) -> str:
    """A short keyed hash of a user's stored password hash: changes whenever the password does."""
    return salted_hmac("tenants.jwt_sessions.password", password_hash).hexdigest()[:16]


def stamp_matches(claim: Any, password_hash: str) -> bool:
    """Whether a token's ``pwd`` claim fits this password hash (no claim: a token from before
    the stamp, which its next refresh stamps)."""
    return claim is None or constant_time_compare(str(claim), password_stamp(password_hash))


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
    """``POST /v1/auth/token/refresh``: rotates (``ROTATE_REFRESH_TOKENS``, with the old token
    blacklisted) like simplejwt's, and also refuses a token whose password stamp no longer
    fits, or whose session was logged out (a token of it that escaped the logout's blacklist
    got a new pair whose access tokens were then refused). Errors are ``TokenError`` (401)."""

    token_class = _SingleUseRefreshToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        try:
            refresh = self.token_class(attrs["refresh"])  # signature, expiry, blacklist
        except TokenError:
            end_reused_session(attrs["refresh"])
            raise
        user_id = refresh.get(api_settings.USER_ID_CLAIM)
        user = (
            get_user_model()
            ._default_manager.filter(**{api_settings.USER_ID_FIELD: user_id})
            .first()
        )
        if user is None or not api_settings.USER_AUTHENTICATION_RULE(user):
            raise TokenError("No active account for this token.")
        if not stamp_matches(refresh.get(PASSWORD_CLAIM), user.password):
            raise TokenError("The password changed since this sign-in.")
        if session_ended(refresh.get(SID_CLAIM) or ""):
            raise TokenError("This sign-in session was logged out.")
        refresh.blacklist()  # once: a refresh racing this one fails here
        refresh[PASSWORD_CLAIM] = password_stamp(user.password)  # stamps an older token
        refresh.set_jti()
        refresh.set_exp()
        refresh.set_iat()
        _cap_expiry(refresh)
        refresh.outstand()
        return {"access": str(refresh.access_token), "refresh": str(refresh)}


class SessionLogoutSerializer(TokenBlacklistSerializer):
    """``POST /v1/auth/logout``: simplejwt's blacklisting, and an earlier refresh token of the
    session (one already rotated) logs the session out too, rather than a 401 that left it
    signed in (``end_reused_session``)."""

    def validate(self, attrs: dict[str, Any]) -> dict[Any, Any]:
        try:
            return super().validate(attrs)
        except TokenError:
            if end_reused_session(attrs["refresh"]):
                return {}
            raise


def end_reused_session(raw: str) -> bool:
    """End the sign-in session of ``raw`` when it is a genuine, unexpired refresh token that was
    already used up (rotated, or logged out); whether it was one.

    Rotation makes each refresh token single-use, so a second use means that two parties held
    it: whoever refreshed first (a thief, say) went on with the session's next tokens, and the
    other got a 401 and signed in anew, leaving that fork alive (rotation renews its lifetime,
    so for good). As RFC 9700 (OAuth 2.0 security BCP, 4.14.2) asks, the reuse now ends the
    session: its access and refresh tokens, both parties' (the rightful one signs in again)."""
    from rest_framework_simplejwt.exceptions import TokenBackendError
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

    try:
        token = RefreshToken(raw, verify=False)
        token.get_token_backend().decode(raw, verify=True)  # signature and expiry
    except (TokenError, TokenBackendError):
        return False
    if token.get(api_settings.TOKEN_TYPE_CLAIM) != RefreshToken.token_type:
        return False
    jti = token.get(api_settings.JTI_CLAIM)
    if not token.get(SID_CLAIM) or not jti:  # (no session: a token from before sessions)
        return False
    if not BlacklistedToken.objects.filter(token__jti=jti).exists():
        return False
    end_session(token)
    return True


def forget_token_text(sender: Any, instance: Any, **kwargs: Any) -> None:
    """``pre_save`` of simplejwt's ``OutstandingToken``: the row keeps the token's ``jti``, user
    and expiry (all that blacklisting, rotation and ``flushexpiredtokens`` read), not the token.
    simplejwt stored each refresh token whole, so a database backup or dump held every staff
    sign-in of the last days as a working credential (refresh, then act with the user's REST
    powers, no password or one-time code asked), where API keys are kept as hashes only."""
    instance.token = ""


def end_session(refresh: Any) -> None:
    """Record the session of a (valid) refresh token as logged out for as long as any of its
    refresh tokens could live (a later one, issued by a rotation, outlives an earlier one)."""
    sid = refresh.get(SID_CLAIM)
    if not sid:
        return
    from chatbot_project.redis_client import get_redis

    seconds = int(api_settings.REFRESH_TOKEN_LIFETIME.total_seconds()) + 1
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
    token[PASSWORD_CLAIM] = password_stamp(request.user.password)
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
