"""Content gaps in the Django admin (``/admin/conversations/gaps/``): the report of
``GET /v1/unanswered`` (``conversations.gaps``, the same query and rules) for staff who do not
use the REST API, listed in the Conversations section of the admin index.

Who sees what: staff with Django's view permission on messages (the report shows what users
asked), in the tenants they may see in the admin (``tenants.admin_scoping``: their memberships'
active tenants, any role, as ``GET /v1/unanswered`` needs only ``read``; superusers every
tenant). Another tenant's id in ``?tenant=`` finds nothing. Without a tenant chosen, the
questions of all the user's tenants are merged (the ``PAGE`` most asked), up to
``MERGED_TENANTS`` tenants; past that (a superuser of a large instance) a tenant must be chosen.
One tenant's report pages on with the API's cursor (``?after=``).

Server-rendered with the admin's templates and stylesheets, no inline script or style (the
admin's Content-Security-Policy, ``chatbot_project.admin_site``).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from bots.models import Bot
from chatbot_project.admin_site import add_app_page
from chatbot_project.errors import APIError
from conversations.gaps import Position, unanswered
from conversations.models import Conversation, Message
from tenants.admin_scoping import admin_tenant_ids
from tenants.models import Tenant

PAGE = 50
MERGED_TENANTS = 10
PERIODS = {"7": ("Last 7 days", 7), "30": ("Last 30 days", 30), "90": ("Last 90 days", 90)}
REASON_LABELS = {
    "ungrounded": "refused: no sources",
    "no_sources": "answered without sources",
    "rated_down": "rated down",
}
URL_NAME = "conversations_gaps"


def _visible_tenants(request: HttpRequest) -> list[Tenant]:
    ids = admin_tenant_ids(request)
    tenants = Tenant.objects.all() if ids is None else Tenant.objects.filter(pk__in=ids)
    return list(tenants.order_by("name", "slug"))


def _parse_uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _link(params: dict[str, str], **changes: str | None) -> str:
    """The page's query string with ``changes`` (None drops a parameter); a new filter starts
    from the first page."""
    merged = {k: v for k, v in params.items() if k != "after"}
    merged.update(changes)
    return "?" + urlencode({k: v for k, v in merged.items() if v})


def _choices(params, name, options, default_label="All") -> list[dict[str, Any]]:
    """A filter's entries: ``options`` are (value, label) pairs; the first entry clears it."""
    current = params.get(name) or None
    entries = [{"label": default_label, "url": _link(params, **{name: None}),
                "selected": current is None}]  # fmt: skip
    for value, label in options:
        entries.append(
            {"label": label, "url": _link(params, **{name: value}), "selected": current == value}
        )
    return entries


def _rows(tenants, *, bot, start, rated_down, after) -> tuple[list[dict], Position | None]:
    """One tenant's page (and where the next starts), or the ``PAGE`` most asked of several."""
    if len(tenants) == 1:
        rows, following = unanswered(
            tenant=tenants[0], bot=bot, start=start, rated_down=rated_down, limit=PAGE,
            after=after,
        )  # fmt: skip
        for row in rows:
            row["tenant"] = tenants[0]
        return rows, following
    merged: list[dict] = []
    for tenant in tenants:
        rows, _ = unanswered(tenant=tenant, bot=bot, start=start, rated_down=rated_down, limit=PAGE)
        merged += [{**row, "tenant": tenant} for row in rows]
    merged.sort(key=lambda r: (-r["count"], -r["last_asked"].timestamp()))
    return merged[:PAGE], None


def gaps_view(request: HttpRequest) -> HttpResponse:
    model_admin = admin.site._registry.get(Message)
    if model_admin is None or not model_admin.has_view_permission(request):
        raise PermissionDenied
    params = {k: request.GET.get(k, "") for k in ("tenant", "bot", "period", "rated_down", "after")}
    tenants = _visible_tenants(request)
    problems: list[str] = []
    chosen = tenants
    if params["tenant"]:
        wanted = _parse_uuid(params["tenant"])
        chosen = [t for t in tenants if t.pk == wanted]
        if not chosen:
            problems.append("That tenant is not one of yours: choose one below.")
    elif len(tenants) > MERGED_TENANTS:
        chosen = []
        problems.append("Choose a tenant (filter on the right) to see its content gaps.")
    bot_slugs = sorted(set(Bot.objects.filter(tenant__in=chosen).values_list("slug", flat=True)))
    bot = params["bot"] if params["bot"] in bot_slugs else None
    if params["bot"] and bot is None:
        problems.append("No bot of that name here: showing every bot.")
    period = PERIODS.get(params["period"])
    start = timezone.now() - timedelta(days=period[1]) if period else None
    after = None
    if params["after"] and len(chosen) == 1:
        try:
            after = Position.parse(params["after"])
        except APIError:
            problems.append("That page link is not valid: showing the first page.")
    rows, following = [], None
    if chosen:
        rows, following = _rows(
            chosen, bot=bot, start=start, rated_down=params["rated_down"] == "1", after=after
        )
    conversation_admin = model_admin.admin_site._registry.get(Conversation)
    may_open = conversation_admin is not None and conversation_admin.has_view_permission(request)
    for row in rows:
        row["reason_labels"] = [REASON_LABELS[r] for r in row["reasons"]]
        if may_open:
            row["conversation_url"] = reverse(
                "admin:conversations_conversation_change", args=[row["conversation_id"]],
                current_app=model_admin.admin_site.name,
            )  # fmt: skip
    filters = [
        ("bot", _choices(params, "bot", [(s, s) for s in bot_slugs])),
        ("period", _choices(params, "period", [(k, v[0]) for k, v in PERIODS.items()], "Any time")),
        ("rated-down answers", _choices(params, "rated_down", [("1", "Included")], "Left out")),
    ]
    if len(tenants) > 1:
        tenant_options = [(str(t.pk), t.name or t.slug) for t in tenants]
        filters.insert(0, ("tenant", _choices(params, "tenant", tenant_options)))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Content gaps",
        "opts": model_admin.model._meta,
        "rows": rows,
        "show_tenant": len(chosen) > 1,
        "merged": len(chosen) > 1 and len(rows) == PAGE,  # (maybe more than shown)
        "page_size": PAGE,
        "problems": problems,
        "filters": filters,
        "next_url": _link(params, after=following.token()) if following else None,
        "first_url": _link(params) if after else None,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/conversations/content_gaps.html", context)


def _index_row(request: HttpRequest) -> dict | None:
    """The report's row in the Conversations section of the admin index."""
    message_admin = admin.site._registry.get(Message)
    if message_admin is None or not message_admin.has_view_permission(request):
        return None
    try:
        url = reverse(f"admin:{URL_NAME}", current_app=admin.site.name)
    except NoReverseMatch:
        return None
    return {"name": "Content gaps", "object_name": "ContentGaps", "admin_url": url,
            "add_url": None, "view_only": True, "perms": {"view": True}}  # fmt: skip


add_app_page("conversations", _index_row, route="gaps/", view=gaps_view, name=URL_NAME)
