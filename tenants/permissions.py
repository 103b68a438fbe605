"""Permission per route: views declare ``required_permission`` (str) or a per-method dict.

Default: safe methods need ``read``, everything else ``write`` (API.md's table).
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission


def required_permission(request, view) -> str:
    spec = getattr(view, "required_permission", None)
    if isinstance(spec, dict):
        return spec.get(request.method, spec.get("*", "write"))
    if isinstance(spec, str):
        return spec
    return "read" if request.method in SAFE_METHODS else "write"


class IsTenantMember(BasePermission):
    message = "This credential lacks the permission this route needs."

    def has_permission(self, request, view) -> bool:
        ctx = getattr(request, "auth_context", None)
        if ctx is None:
            return False
        needed = required_permission(request, view)
        if not ctx.has(needed):
            self.message = f"This credential lacks the `{needed}` permission this route needs."
            return False
        return True
