"""The admin's delete confirmation for big cascades: counts of what goes, not a line per row.

Django's confirmation page (and the "delete selected" action, and the POST that deletes) loads
every object a delete takes with it, whole, and renders each as a link: a dataset with 10,000
chunks took 11 s and 1.4 MB of HTML, a tenant with 10,000 messages and 10,000 chunks 29 s and
3 MB, before anything was deleted; a bigger tenant could not be deleted from the admin at all.
Past ``LIST_AT_MOST`` rows the page lists the objects chosen and counts the rest per model
(Django's "Summary"), with the permission and protection checks Django makes.
"""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from django.contrib.admin.utils import get_deleted_objects, quote
from django.db import router
from django.db.models import ProtectedError, Q, RestrictedError
from django.db.models.deletion import Collector
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import capfirst

LIST_AT_MOST = 100  # up to this many rows in all, Django's own page (every object listed)


def deleted_objects(model_admin: Any, objs: Any, request: Any) -> tuple:
    """``ModelAdmin.get_deleted_objects``: Django's answer for a small cascade, else the objects
    chosen as links and the cascade as counts (``to_delete, model_count, perms_needed,
    protected``, as Django returns them)."""
    roots = list(objs)
    if not roots:
        return [], {}, set(), []
    site = model_admin.admin_site
    collector = Collector(using=router.db_for_write(type(roots[0])), origin=roots)
    try:
        collector.collect(roots)
    except (ProtectedError, RestrictedError) as exc:
        # Refused: the page names only what blocks the delete (as Django's does).
        blocking = getattr(exc, "protected_objects", None) or exc.restricted_objects
        return [_link(obj, site) for obj in roots], {}, set(), [_link(o, site) for o in blocking]
    counts = _counts(collector)
    if sum(counts.values()) <= LIST_AT_MOST:
        return get_deleted_objects(roots, request, site)
    perms_needed = set()
    for obj in roots:
        if not model_admin.has_delete_permission(request, obj):
            perms_needed.add(obj._meta.verbose_name)
    for model, count in counts.items():
        # (cascaded rows are of the chosen objects' tenant: the role was checked on those)
        cascaded = count and model is not type(roots[0]) and site.is_registered(model)
        if cascaded and not site.get_model_admin(model).has_delete_permission(request):
            perms_needed.add(model._meta.verbose_name)
    model_count = {model._meta.verbose_name_plural: n for model, n in counts.items() if n}
    return [_link(obj, site) for obj in roots], model_count, perms_needed, []


def _counts(collector: Collector) -> dict:
    """Rows per model the delete would remove, each counted once (the same chunk is reached
    through its tenant, dataset and document: three querysets of one model)."""
    counts = {model: len(instances) for model, instances in collector.data.items()}
    by_model: dict = {}
    for qs in collector.fast_deletes:
        by_model.setdefault(qs.model, []).append(qs)
    for model, querysets in by_model.items():
        known = [obj.pk for obj in collector.data.get(model, ())]
        wanted = [Q(pk__in=qs.values("pk")) for qs in querysets]
        if known:
            wanted.append(Q(pk__in=known))
        rows = model._base_manager.using(collector.using).filter(reduce(or_, wanted))
        counts[model] = rows.count()
    return counts


def _link(obj: Any, site: Any) -> str:
    opts = obj._meta
    try:
        url = reverse(
            f"{site.name}:{opts.app_label}_{opts.model_name}_change", None, (quote(obj.pk),)
        )
    except NoReverseMatch:
        return f"{capfirst(opts.verbose_name)}: {obj}"
    return format_html('{}: <a href="{}">{}</a>', capfirst(opts.verbose_name), url, obj)
