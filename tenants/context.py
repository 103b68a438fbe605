"""The caller as resolved once per request: tenant, permissions and restrictions.

Set by the authentication classes (API key or JWT) on both the DRF request and the underlying
Django request (``request.tenant``, ``request.auth_context``), and by the WebSocket consumer.
Views never take a tenant id from the client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tenants.models import Tenant

ROLE_PERMISSIONS = {
    "owner": frozenset({"chat", "read", "write", "admin"}),
    "admin": frozenset({"chat", "read", "write", "admin"}),
    "member": frozenset({"chat", "read"}),
}


@dataclass(frozen=True)
class AuthContext:
    tenant: Tenant
    permissions: frozenset[str]
    api_key: Any = None  # apikeys.models.APIKey | None
    user: Any = None  # auth.User | None
    role: str | None = None
    allowed_bot_ids: frozenset | None = None  # None = every bot of the tenant
    allowed_scope_ids: frozenset | None = None  # None = every scope of the tenant
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    rate_limit: str = ""
    session_id: str = ""  # a staff JWT's sign-in session (tenants.jwt_sessions), else ""
    password_stamp: str | None = None  # a staff JWT's password stamp (tenants.jwt_sessions)

    def has(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def principal_id(self) -> str:
        if self.api_key is not None:
            return f"key:{self.api_key.id}"
        # Per tenant: a user's rate limit and chat slots come from the tenant acted in, so a
        # user of several tenants must not spend one tenant's allowance in another.
        return f"user:{getattr(self.user, 'pk', '')}@{self.tenant.id}"


class Principal:
    """What DRF sees as ``request.user`` for an API key (authenticated, never staff)."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None

    def __init__(self, context: AuthContext) -> None:
        self.context = context

    def is_verified(self) -> bool:  # django-otp's attribute, absent for non-session users
        return False

    def __str__(self) -> str:
        return self.context.principal_id


def attach(request: Any, context: AuthContext) -> None:
    """Expose the context on the DRF request and the Django request below it."""
    for target in (request, getattr(request, "_request", None)):
        if target is not None:
            target.tenant = context.tenant
            target.auth_context = context
