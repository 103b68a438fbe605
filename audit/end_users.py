"""End users in the audit log without their ids: a keyed hash (``end_user_ref``).

An erasure event must let an auditor prove "end user X's conversations were erased on day Y"
without the log keeping X, which is the personal data just erased. So the event stores
HMAC-SHA256 of the tenant's id and the end-user id, keyed with ``SECRET_KEY``: whoever holds an
id (the tenant answering the request) can find its events (``GET /v1/audit?end_user=X`` hashes
X the same way), nobody can read an id back out of the log, and the same id in two tenants (two
people) gives two unrelated values. After a ``SECRET_KEY`` rotation the old key, kept in
``SECRET_KEY_FALLBACKS``, still finds the events recorded under it (``end_user_refs``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.crypto import salted_hmac

_SALT = "audit.end_user"


def end_user_ref(*, tenant_id: Any, user: str, secret: str | None = None) -> str:
    """The 64 hex digits stored for end user ``user`` of the tenant ``tenant_id``."""
    value = f"{tenant_id}:{user}"
    return salted_hmac(_SALT, value, secret=secret, algorithm="sha256").hexdigest()


def end_user_refs(*, tenant_id: Any, user: str) -> list[str]:
    """``end_user_ref`` under the current key and each fallback key (events recorded before a
    rotation), to look events up."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())]
    return [end_user_ref(tenant_id=tenant_id, user=user, secret=s) for s in secrets]
