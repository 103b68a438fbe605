"""JWT for tenant staff (simplejwt) resolved to one tenant through Membership and ``X-Tenant``."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from tenants.context import ROLE_PERMISSIONS, AuthContext, attach
from tenants.models import Membership


class TenantJWTAuthentication(JWTAuthentication):
    www_authenticate_realm = "api"

    def authenticate(self, request):  # noqa: ANN001, ANN201
        header = self.get_header(request)
        if header is None:
            return None
        raw = self.get_raw_token(header)
        if raw is None:
            return None
        try:
            validated = self.get_validated_token(raw)
        except (InvalidToken, TokenError):
            raise exceptions.AuthenticationFailed(
                "The access token is invalid or expired; obtain a new one at /v1/auth/token."
            ) from None
        user = self.get_user(validated)
        # OTPMiddleware ran before DRF authentication: JWT users never passed OTP.
        user.is_verified = lambda: False
        memberships = list(
            Membership.objects.select_related("tenant").filter(user=user, tenant__is_active=True)
        )
        wanted = request.headers.get("X-Tenant")
        if wanted:
            memberships = [m for m in memberships if m.tenant.slug == wanted]
            if not memberships:
                raise exceptions.AuthenticationFailed(
                    f"You have no membership in tenant {wanted!r}."
                )
        if not memberships:
            raise exceptions.AuthenticationFailed("This user belongs to no active tenant.")
        if len(memberships) > 1:
            raise exceptions.AuthenticationFailed(
                "This user belongs to several tenants; send X-Tenant: <slug> to pick one."
            )
        membership = memberships[0]
        context = AuthContext(
            tenant=membership.tenant,
            permissions=ROLE_PERMISSIONS[membership.role],
            user=user,
            role=membership.role,
            rate_limit=membership.tenant.default_rate_limit,
        )
        attach(request, context)
        return user, context
