"""REST for /v1/tenant and the staff JWT routes /v1/auth/{token,token/refresh,logout}."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from chatbot_project.jsonbody import StrictJSONParser
from tenants import services
from tenants.auth import auth_failed
from tenants.jwt_sessions import (
    SessionLogoutSerializer,
    SessionTokenObtainSerializer,
    SessionTokenRefreshSerializer,
    SignInExpired,
    end_session,
)
from tenants.serializers import RefreshRequest, TenantSerializer, TokenObtainRequest, TokenPair
from tenants.views import TenantAPIView, _type_problem

LOGIN_LIMIT = "20/m"  # per client address, against password guessing


class TenantAPI(TenantAPIView):
    serializer_class = TenantSerializer
    required_permission = {"GET": "read", "PATCH": "admin"}

    @extend_schema(operation_id="tenant_retrieve", responses=TenantSerializer)
    def get(self, request: Any) -> Response:
        return Response(TenantSerializer(self.tenant).data)

    @extend_schema(
        operation_id="tenant_update", request=TenantSerializer, responses=TenantSerializer
    )
    def patch(self, request: Any) -> Response:
        tenant = services.tenant_update_for(
            context=self.auth, data=self.parse(TenantSerializer, partial=True)
        )
        return Response(TenantSerializer(tenant).data)


class _TokenAPI(APIView):
    """No authentication: these routes are how a user gets credentials."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [StrictJSONParser]  # JSON bodies like every route (forms were taken too)
    rate_limit_bucket = None
    serializer_class: Any = None

    def get_authenticate_header(self, request: Any) -> str:
        # Without authenticators DRF would turn a failed login into 403; it is a 401.
        return 'Bearer realm="api"'

    def _validated(self, request: Any) -> Any:
        body = request.data
        if not isinstance(body, dict):  # (a list was read as {}: "username: required")
            raise serializers.ValidationError(
                {"non_field_errors": ["Send a JSON object as the request body."]}
            )
        serializer = self.serializer_class(data=body)
        unknown = sorted(name for name in body if name not in serializer.fields)
        if unknown:  # as every other route (StrictSerializer): a typo is not ignored
            raise serializers.ValidationError(
                {name: ["Unknown field; see /docs for this route's fields."] for name in unknown}
            )
        wrong = {  # JSON types as StrictSerializer has them: 5 was read as "5"
            name: [problem]
            for name, value in body.items()
            for problem in [_type_problem(serializer.fields[name], value)]
            if problem
        }
        if wrong:
            raise serializers.ValidationError(wrong)
        try:
            serializer.is_valid(raise_exception=True)
        except SignInExpired as exc:
            raise auth_failed(str(exc)) from None
        except (TokenError, ObjectDoesNotExist):
            # ObjectDoesNotExist: simplejwt's refresh looks up the token's user, who may have
            # been deleted since (a 500 before).
            raise auth_failed("The refresh token is invalid, expired or revoked.") from None
        return serializer


def count_sign_in(request: Any) -> Any:
    """Count one password check from the request's address (``LOGIN_LIMIT``): the
    ``Decision``. Shared by this route and the admin's login form (``chatbot_project.admin_site``)
    so that neither is an unlimited way to guess passwords."""
    from apikeys.ratelimit import check
    from tenants.sign_in_address import sign_in_address

    return check(f"rl:login:{sign_in_address(request)}", LOGIN_LIMIT)


def _login_guard(request: Any) -> None:
    from apikeys.ratelimit import rate_limited_error

    decision = count_sign_in(request)
    if not decision.allowed:
        raise rate_limited_error(decision, "sign-ins from this address")


_SIGN_IN_ANSWERS = {  # (docs/api.md lists the same; the body is the Error schema)
    400: "The body is not valid JSON or not a JSON object, has an unknown field or one that is "
    "not a string, or lacks `username` or `password` (`invalid_request`).",
    401: "Wrong password or no such active account; no `otp` (or a wrong, expired or used one) "
    "for a user with a TOTP device; or, after those checks, a user with no membership in an "
    "active tenant (`authentication_failed`).",
    429: "Too many sign-ins from this address (20 a minute; IPv6 by /64), too many failed ones "
    "for this username (wrong passwords, or wrong codes after a right one: "
    "`SIGN_IN_FAILURES_PER_USERNAME` in `SIGN_IN_FAILURE_WINDOW_MINUTES`, counted since its "
    "last complete sign-in; every sign-in of it refused till the window ends), or one-time "
    "codes held back after wrong ones (`rate_limited`); see `Retry-After`.",
}


class TokenObtainAPI(_TokenAPI):
    serializer_class = SessionTokenObtainSerializer

    @extend_schema(
        operation_id="auth_token", request=TokenObtainRequest, auth=[],
        responses={200: TokenPair} | {
            code: OpenApiResponse(description=text) for code, text in _SIGN_IN_ANSWERS.items()
        },
        description="Signs a staff user in: an access and a refresh token.",
    )  # fmt: skip
    def post(self, request: Any) -> Response:
        _login_guard(request)
        serializer = self._validated(request)
        return Response(serializer.validated_data)


class TokenRefreshAPI(_TokenAPI):
    serializer_class = SessionTokenRefreshSerializer

    @extend_schema(
        operation_id="auth_token_refresh", request=RefreshRequest, responses=TokenPair, auth=[],
        description="Rotates: the answer carries a new refresh token and the old one is revoked.",
    )  # fmt: skip
    def post(self, request: Any) -> Response:
        return Response(self._validated(request).validated_data)


class LogoutAPI(_TokenAPI):
    serializer_class = SessionLogoutSerializer

    @extend_schema(
        operation_id="auth_logout", request=RefreshRequest, responses={204: None}, auth=[],
        description="Blacklists the refresh token and ends its sign-in session: the access "
        "tokens issued under it stop working at once (other sign-ins are not affected).",
    )  # fmt: skip
    def post(self, request: Any) -> Response:
        self._validated(request)  # the refresh token is valid (and now blacklisted)
        end_session(RefreshToken(request.data["refresh"], verify=False))
        return Response(status=status.HTTP_204_NO_CONTENT)
