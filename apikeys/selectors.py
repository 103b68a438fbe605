from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from apikeys.models import APIKey
from chatbot_project.errors import NotFound
from tenants.models import Tenant


def api_key_list(*, tenant: Tenant, context: Any = None) -> QuerySet[APIKey]:
    """The tenant's keys; for a caller limited to certain bots (scopes), only the keys limited
    within them, the ones it may revoke (``services.api_key_revoke_for``): a key meant for one
    bot used to list every key of the tenant, with their permissions, bots and origins."""
    qs = APIKey.objects.for_tenant(tenant)
    for field, limited, allowed in (
        ("bot", "limited_to_bots", getattr(context, "allowed_bot_ids", None)),
        ("scope", "limited_to_scopes", getattr(context, "allowed_scope_ids", None)),
    ):
        if allowed is None:
            continue
        links = getattr(APIKey, f"{field}s").through.objects.filter(apikey_id=OuterRef("pk"))
        qs = qs.filter(Q(**{limited: True}) | Exists(links)).exclude(
            Exists(links.exclude(**{f"{field}_id__in": allowed}))
        )
    return qs.prefetch_related("bots", "scopes")


def api_key_get(*, tenant: Tenant, key_id: Any, context: Any = None) -> APIKey:
    try:
        return api_key_list(tenant=tenant, context=context).get(id=key_id)
    except (APIKey.DoesNotExist, ValueError):
        raise NotFound() from None
