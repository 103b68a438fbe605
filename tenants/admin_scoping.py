"""Tenancy in the Django admin: staff see and write only the tenants they are members of.

Every admin of a tenant-owned model mixes in ``TenantScopedAdminMixin``. For a staff user who is
not a superuser, every lookup goes through the tenants of their memberships (active tenants only,
as for JWT sign-in, ``tenants.auth``): changelists, change/delete pages (another tenant's object
is the admin's "doesn't exist" redirect, like a missing one), foreign-key and many-to-many
choices (a new object's ``tenant``: where their role lets them write; a user: one sharing a
tenant with them, ``scope_users``) and the tenant list filter. Django's model permissions decide
what they may do, and their role in the object's tenant whether they may write it there
(``tenants.admin_roles``: a ``member`` only views; ``save_model`` and deletes refuse a tenant
where the role does not allow it).

For everyone, superusers included, the form refuses a reference to another tenant's object (a
bot's datasets or default scope, a key's bots, ...), and an object's tenant is fixed once it
exists: moving it would leave its conversations, chunks or keys behind in the old tenant. So an
existing object's change page offers only its own tenant's objects (``limit_choices_to_tenant``);
an add page, where the tenant is chosen on the form, offers the user's tenants' and refuses the
others on save.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest

from chatbot_project.admin_site import ADMIN_FORMFIELD_OVERRIDES
from tenants.admin_roles import RoleRequiredAdminMixin, admin_roles, tenants_allowing
from tenants.models import Membership, Tenant, TenantOwned


def admin_tenant_ids(request: HttpRequest) -> frozenset | None:
    """Ids of the tenants ``request.user`` may see in the admin; ``None`` means all (superuser)."""
    roles = admin_roles(request)  # read once per request, whatever the role
    return None if roles is None else frozenset(roles)


def scope_to_tenants(queryset: QuerySet, tenant_ids: frozenset | None) -> QuerySet:
    """``queryset`` limited to ``tenant_ids`` (tenants themselves, or tenant-owned rows)."""
    if tenant_ids is None:
        return queryset
    if queryset.model is Tenant:
        return queryset.filter(pk__in=tenant_ids)
    if issubclass(queryset.model, TenantOwned):
        return queryset.filter(tenant_id__in=tenant_ids)
    return queryset


def scope_users(queryset: QuerySet, request: HttpRequest) -> QuerySet:
    """``queryset`` of users limited to those sharing a tenant with ``request.user``, and them."""
    tenant_ids = admin_tenant_ids(request)
    if tenant_ids is None:
        return queryset
    sharing = Membership.objects.filter(tenant_id__in=tenant_ids).values("user_id")
    return queryset.filter(Q(pk=request.user.pk) | Q(pk__in=sharing))


class ScopedRawIdWidget(ForeignKeyRawIdWidget):
    """A raw-id field that names the chosen object only if it is one of the field's choices.

    Django looks the typed id up among all rows to show its name beside the box, also when the
    form comes back with "Select a valid choice": a posted made-up id showed another tenant's
    object, and as user ids count up from 1, every username of the instance (superusers
    included). ``scoped_to`` is the form field's queryset (set by ``TenantScopedAdminMixin``).
    """

    scoped_to: QuerySet | None = None
    tenant_id: Any = None  # the object's tenant, on its change page: the lookup popup's filter

    def url_parameters(self) -> dict[str, str]:
        params = super().url_parameters()
        if self.tenant_id is not None and issubclass(self.rel.model, TenantOwned):
            params["tenant__id__exact"] = str(self.tenant_id)  # (the ``tenant`` list filter)
        return params

    def label_and_url_for_value(self, value: Any) -> tuple[str, str]:
        if self.scoped_to is not None:
            key = self.rel.get_related_field().name
            try:
                known = self.scoped_to.filter(**{key: value}).exists()
            except (TypeError, ValueError, ValidationError):
                known = False
            if not known:
                return "", ""
        return super().label_and_url_for_value(value)


def limit_choices_to_tenant(form_class: type[forms.BaseForm], tenant_id: Any) -> None:
    """The choices of ``form_class``'s tenant-owned relations limited to tenant ``tenant_id``.

    A superuser's change page listed every tenant's objects (a bot's datasets, a key's bots),
    and a staff user's the objects of all their tenants, though only the object's tenant's can
    be saved (``SameTenantForm``). ``get_form`` makes a new form class, fields included, each
    time, so narrowing its ``base_fields`` touches no other request's form."""
    only = frozenset({tenant_id})
    for field in form_class.base_fields.values():
        queryset = getattr(field, "queryset", None)
        if queryset is None or not issubclass(queryset.model, TenantOwned):
            continue
        field.queryset = scope_to_tenants(queryset, only)
        widget = getattr(field.widget, "widget", field.widget)  # (RelatedFieldWidgetWrapper)
        if isinstance(widget, ScopedRawIdWidget):
            widget.scoped_to, widget.tenant_id = field.queryset, tenant_id


class TenantListFilter(admin.RelatedFieldListFilter):
    """The ``tenant`` filter, offering only the tenants the user may see."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        tenant_ids = admin_tenant_ids(request)
        if tenant_ids is None:
            return field.get_choices(include_blank=False, ordering=ordering)
        return field.get_choices(
            include_blank=False, ordering=ordering, limit_choices_to={"pk__in": tenant_ids}
        )


class SameTenantForm(forms.ModelForm):
    """A model form refusing references to objects of another tenant than the object's.

    An object's ``tenant`` is read-only once it exists, so not a form field, and Django skips
    every unique rule naming a field the form lacks: a bot's slug, a dataset's name or a
    membership's user already taken in the tenant reached the database (an IntegrityError, a
    500). ``_get_validation_exclusions`` keeps ``tenant`` in those checks.
    """

    def _get_validation_exclusions(self) -> set[str]:
        exclude = super()._get_validation_exclusions()
        if "tenant" not in self.fields and self.instance.tenant_id:
            exclude.discard("tenant")
        return exclude

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "tenant" in self.fields:
            tenant = cleaned.get("tenant")
        else:
            tenant = self.instance.tenant if self.instance.tenant_id else None
        if tenant is None:
            return cleaned
        quota = getattr(self, "creation_quota", None)  # set by TenantScopedAdminMixin.get_form
        if quota and self.instance._state.adding:
            from tenants.quotas import quota_refusal

            # In the admin's add view (one transaction up to the save) the tenant row stays
            # locked from here, so no creation elsewhere can fill the quota before save_model.
            in_atomic = transaction.get_connection().in_atomic_block
            refusal = quota_refusal(tenant=tenant, quota=quota, lock=in_atomic)
            if refusal is not None:
                self.add_error(None, str(refusal.detail))
        opts = self._meta.model._meta
        for name in self.fields:
            try:
                field = opts.get_field(name)
            except FieldDoesNotExist:
                continue
            if not field.is_relation or not issubclass(field.related_model, TenantOwned):
                continue
            value = cleaned.get(name)
            chosen: Iterable[Model] = (
                (value or ()) if field.many_to_many else ([value] if value is not None else ())
            )
            foreign = [str(obj) for obj in chosen if obj.tenant_id != tenant.pk]
            if foreign:
                self.add_error(
                    name,
                    f"{', '.join(foreign)} belong(s) to another tenant; choose "
                    f"{field.verbose_name} of tenant {tenant}.",
                )
        return cleaned


class TenantScopedAdminMixin(RoleRequiredAdminMixin):
    """Mix into the ModelAdmin of every ``TenantOwned`` model (before ``admin.ModelAdmin``).

    ``write_permission`` (``tenants.admin_roles``) is what a role needs to write: ``"write"``,
    or ``"admin"`` for API keys and memberships.
    """

    form = SameTenantForm
    formfield_overrides = ADMIN_FORMFIELD_OVERRIDES
    # The tenant quota a new object counts against (tenants.quotas), checked as the services
    # check it: the form shows the refusal, save_model re-checks under the tenant's lock.
    creation_quota: str | None = None
    # The object type its saves and deletes are recorded as in the audit log (audit.admin_hooks);
    # None: not recorded.
    audit_type: str | None = None

    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.creation_quota = self.creation_quota
        if obj is not None and obj.tenant_id:
            limit_choices_to_tenant(form, obj.tenant_id)
        return form

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return scope_to_tenants(super().get_queryset(request), admin_tenant_ids(request))

    def get_field_queryset(self, db, db_field, request: HttpRequest):
        # The one hook behind formfield_for_foreignkey and formfield_for_manytomany (and the
        # validation of raw-id fields): the choices of a relation, here limited to the tenants
        # (and users) of the user.
        queryset = super().get_field_queryset(db, db_field, request)
        related = db_field.remote_field.model
        if admin_roles(request) is None or not (
            related is Tenant or issubclass(related, TenantOwned) or related is get_user_model()
        ):
            return queryset
        if queryset is None:
            queryset = related._default_manager.using(db).all()
        if related is Tenant:  # the tenant of a new object: where the role allows writing
            return scope_to_tenants(queryset, tenants_allowing(request, self.write_permission))
        if related is get_user_model():
            return scope_users(queryset, request)
        return scope_to_tenants(queryset, admin_tenant_ids(request))

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        if db_field.name in self.raw_id_fields and "widget" not in kwargs:
            kwargs["widget"] = ScopedRawIdWidget(
                db_field.remote_field, self.admin_site, using=kwargs.get("using")
            )
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and isinstance(field.widget, ScopedRawIdWidget):
            field.widget.scoped_to = field.queryset
        return field

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and "tenant" not in readonly:
            readonly += ("tenant",)
        return readonly

    def get_list_filter(self, request: HttpRequest):
        return [
            ("tenant", TenantListFilter) if entry == "tenant" else entry
            for entry in super().get_list_filter(request)
        ]

    def writable(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """``queryset`` limited to the tenants where the user's role allows writing."""
        return scope_to_tenants(queryset, tenants_allowing(request, self.write_permission))

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        self.check_tenant(request, obj)
        if self.creation_quota and not change:
            from tenants.quotas import enforce_quota

            enforce_quota(tenant=obj.tenant, quota=self.creation_quota)  # (the admin's atomic)
        from audit.admin_hooks import admin_saved

        save = super().save_model
        admin_saved(self.audit_type, obj, form, change, lambda: save(request, obj, form, change))

    def delete_model(self, request: HttpRequest, obj) -> None:
        from audit.admin_hooks import admin_deleted

        self.check_tenant(request, obj)
        admin_deleted(self.audit_type, [obj])  # (the admin's transaction: rolled back together)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        from audit.admin_hooks import admin_deleted

        queryset = self.writable(request, queryset)
        if self.audit_type is None:
            return super().delete_queryset(request, queryset)
        with transaction.atomic():  # ("delete selected" runs outside the admin's transaction)
            admin_deleted(self.audit_type, queryset.select_related("tenant"))
            super().delete_queryset(request, queryset)
        return None
