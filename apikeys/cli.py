"""Naming an API key on the command line (``revoke_api_key``, ``rotate_api_key``).

A key is named by the whole key (pasted from wherever it leaked: matched by its public prefix
and checked against its hash), by its prefix (what listings show, with or without the
ellipsis), by its id, or, within a tenant, by its name ("website") when exactly one working key
(neither revoked nor expired) of that tenant has it. A name several working keys share (a key
being rotated has a successor of the same name until its grace period ends) is refused with
their prefixes and creation dates, so the operator picks one by prefix.
"""

from __future__ import annotations

from datetime import UTC

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db.models import Q, QuerySet
from django.utils import timezone

from apikeys import keys
from apikeys.models import APIKey
from tenants.models import Tenant

HOW = "name a key by the whole key, its prefix, its id or its name"


def shown(ref: str) -> str:
    """``ref`` as an error may repeat it: never the whole of something that looks like a key
    (it may be a leaked secret, and errors end up in logs and tickets)."""
    if _looks_like_key(ref):
        return ref[: keys.PREFIX_LEN] + "…"
    return ref if len(ref) <= 80 else ref[:80] + "…"


def _looks_like_key(ref: str) -> bool:
    """A key, or a key mistyped: longer than a prefix (with its ellipsis) and starting like one."""
    return ref.startswith(settings.API_KEY_PREFIX) and len(ref) > keys.PREFIX_LEN + 2


def _working(qs: QuerySet[APIKey]) -> QuerySet[APIKey]:
    now = timezone.now()
    return qs.filter(revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


def _listed(rows: list[APIKey]) -> str:
    return ", ".join(
        f"{k.prefix}… (created {k.created_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC)" for k in rows
    )


def _by_key_prefix_or_id(qs: QuerySet[APIKey], ref: str) -> APIKey | None:
    ref = ref.strip().rstrip("…").rstrip(".")  # a prefix copied with the listing's ellipsis
    if not ref:
        return None
    if keys.looks_valid(ref):
        key = qs.filter(prefix=keys.public_prefix(ref)).first()
        return key if key is not None and keys.matches(ref, key.key_hash) else None
    key = qs.filter(prefix=ref).first()
    if key is None:
        try:
            key = qs.filter(id=ref).first()
        except ValidationError:  # not a UUID
            key = None
    return key


def _by_name(tenant: Tenant, ref: str, verb: str) -> APIKey | None:
    """The one working key of ``tenant`` named ``ref``; None when no key has that name; a
    CommandError when several working keys, or only revoked or expired ones, have it."""
    named = APIKey.objects.for_tenant(tenant).filter(name__in={ref, ref.strip()})
    working = list(_working(named).order_by("created_at"))
    if len(working) == 1:
        return working[0]
    where = f"of tenant {tenant.slug!r}"
    if working:
        raise CommandError(
            f"{len(working)} working API keys {where} are named {shown(ref)!r}: "
            f"{_listed(working)}; name one by its prefix (nothing was {verb})."
        )
    gone = list(named.order_by("created_at")[:10])
    if gone:
        raise CommandError(
            f"No working API key {where} is named {shown(ref)!r}: only revoked or expired "
            f"ones ({_listed(gone)}); nothing was {verb}."
        )
    return None


def find_key(ref: str, *, tenant: Tenant | None, verb: str) -> APIKey:
    """The key ``ref`` names (within ``tenant`` when given; by name only then), else a
    CommandError of one line saying nothing was ``verb`` (e.g. "revoked")."""
    qs = APIKey.objects.all() if tenant is None else APIKey.objects.for_tenant(tenant)
    key = _by_key_prefix_or_id(qs, ref)
    if key is None and tenant is not None and not _looks_like_key(ref.strip()):
        key = _by_name(tenant, ref, verb)
    if key is not None:
        return key
    if tenant is not None:
        raise CommandError(
            f"No API key {shown(ref)!r} in tenant {tenant.slug!r} ({HOW}; nothing was {verb})."
        )
    named = _working(APIKey.objects.filter(name__in={ref, ref.strip()})).exists()
    hint = (
        f"keys are named {shown(ref)!r}: give --tenant <slug> to name one by its name"
        if named
        else f"{HOW} (a name with --tenant)"
    )
    raise CommandError(f"No API key {shown(ref)!r} ({hint}; nothing was {verb}).")
