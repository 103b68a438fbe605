from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apikeys.models import APIKey
from chatbot_project.errors import NotFound
from tenants.models import Tenant


def api_key_list(*, tenant: Tenant) -> QuerySet[APIKey]:
    return APIKey.objects.for_tenant(tenant).prefetch_related("bots", "scopes")


def api_key_get(*, tenant: Tenant, key_id: Any) -> APIKey:
    try:
        return api_key_list(tenant=tenant).get(id=key_id)
    except (APIKey.DoesNotExist, ValueError):
        raise NotFound() from None
