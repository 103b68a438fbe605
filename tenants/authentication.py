"""JWT for tenant staff (simplejwt) resolved to one tenant through Membership and ``X-Tenant``.

The resolution itself lives in ``tenants.auth`` (shared with async views and the WebSocket).
"""

from __future__ import annotations

from rest_framework_simplejwt.authentication import JWTAuthentication

from tenants.auth import _context_for_jwt, _Headers, _jwt_from
from tenants.context import attach


class TenantJWTAuthentication(JWTAuthentication):
    www_authenticate_realm = "api"

    def authenticate(self, request):
        # The header read as the async views and API keys read it (tenants.auth): the scheme
        # in any case ("bearer", RFC 9110); simplejwt's own reading wanted "Bearer" exactly.
        raw = _jwt_from(_Headers(request.headers))
        if raw is None:
            return None
        context = _context_for_jwt(raw, request.headers.get("X-Tenant", "").strip())
        user = context.user
        # OTPMiddleware ran before DRF authentication: JWT users never passed OTP.
        user.is_verified = lambda: False
        attach(request, context)
        return user, context
