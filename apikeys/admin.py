from django import forms
from django.contrib import admin, messages
from django.db import transaction

from apikeys.models import PERMISSIONS, APIKey
from apikeys.ratelimit import parse_limit
from apikeys.services import api_key_create, api_key_revoke, api_key_rotate
from tenants.admin_roles import tenants_allowing
from tenants.admin_scoping import SameTenantForm, TenantScopedAdminMixin
from tenants.auth import invalidate_key_cache
from tenants.quotas import QuotaExceeded, enforce_quota

ADD_FIELDS = (
    "tenant", "name", "permissions", "bots", "scopes", "rate_limit", "allowed_origins",
    "expires_at",
)  # fmt: skip


class APIKeyForm(SameTenantForm):
    permissions = forms.TypedMultipleChoiceField(
        choices=[(p, p) for p in PERMISSIONS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def clean_rate_limit(self) -> str:
        value = self.cleaned_data.get("rate_limit", "")
        if value:
            try:
                parse_limit(value)
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from None
        return value

    def clean(self) -> dict:
        cleaned = super().clean()
        tenant = cleaned.get("tenant")
        if self.instance._state.adding and tenant is not None:
            # The quota sentence on the form (api_key_create checks again when it saves).
            try:
                with transaction.atomic():
                    enforce_quota(tenant=tenant, quota="max_api_keys")
            except QuotaExceeded as exc:
                raise forms.ValidationError(str(exc.detail)) from None
        return cleaned


@admin.register(APIKey)
class APIKeyAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    write_permission = "admin"  # as for /v1/api-keys
    audit_type = "api_key"
    form = APIKeyForm
    list_display = ("name", "prefix", "tenant", "permissions", "revoked_at", "last_used_at")
    list_filter = ("tenant",)
    # revoked_at: revoking is final, as DELETE /v1/api-keys/{id} (the "Revoke" action); an
    # editable field let a revoked key be brought back by clearing it.
    readonly_fields = (
        "prefix", "key_hash", "last_used_at", "created_by", "revoked_at", "rotated_from",
    )  # fmt: skip
    search_fields = ("name", "prefix")
    actions = ["revoke_selected", "rotate_selected"]

    def get_queryset(self, request):
        # Keys are seen only where the role is admin (owner, admin), as GET /v1/api-keys: a
        # ``member`` with Django's view permission listed every key of the tenant (names,
        # permissions, bots, origins, hashes) though the API refuses it the list.
        allowed = tenants_allowing(request, self.write_permission)
        queryset = super().get_queryset(request)
        return queryset if allowed is None else queryset.filter(tenant_id__in=allowed)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self.may_write(request, obj)

    @admin.action(description="Revoke the selected API keys", permissions=["change"])
    def revoke_selected(self, request, queryset):
        """Revoke each selected key whose tenant the user may write (the others are left)."""
        revoked = 0
        for key in queryset.select_related("tenant").filter(revoked_at__isnull=True):
            if self.may_write(request, key):
                api_key_revoke(tenant=key.tenant, key=key)
                revoked += 1
        self.message_user(request, f"Revoked {revoked} API key(s).", messages.SUCCESS)

    @admin.action(
        description="Rotate the selected API keys (the old ones work one more hour)",
        permissions=["change"],
    )
    def rotate_selected(self, request, queryset):
        """A successor with the same settings for each working key the user may write, as
        POST /v1/api-keys/{id}/rotate with its default; the new keys are shown this once."""
        shown = []
        for key in queryset.select_related("tenant").filter(revoked_at__isnull=True):
            if self.may_write(request, key) and key.is_active:
                new, raw, _old = api_key_rotate(tenant=key.tenant, key=key, created_by=request.user)
                shown.append(f"{new.name} ({key.tenant.slug}): {raw}")
        if not shown:
            self.message_user(request, "No working API key was selected.", messages.WARNING)
            return
        messages.success(
            request,
            "Copy the new API keys now: they are shown only this once; the old ones work one "
            "more hour. " + "; ".join(shown),
        )

    def get_fields(self, request, obj=None):
        # Adding: only what api_key_create takes; the key, its prefix and hash are generated.
        return ADD_FIELDS if obj is None else super().get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        self.check_tenant(request, obj)
        if change:
            super().save_model(request, obj, form, change)
            self._forget_cached(obj.pk)
            return
        data = form.cleaned_data
        key, raw = api_key_create(
            tenant=data["tenant"],
            name=data["name"],
            permissions=data["permissions"],
            bots=data["bots"],
            scopes=data["scopes"],
            rate_limit=data["rate_limit"],
            allowed_origins=data["allowed_origins"],
            expires_at=data["expires_at"],
            created_by=request.user,
        )
        # The admin goes on with ``obj`` (log entry, redirect): make it the row just created.
        for field in APIKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(key, field.attname))
        obj._state.adding = False
        obj._state.db = key._state.db
        messages.success(
            request,
            "Copy the new API key now: it is shown only this once and cannot be recovered (only "
            f"its hash is stored; if it is lost, revoke it and add another). The key: {raw}",
        )

    def save_related(self, request, form, formsets, change):
        if change:  # on add, api_key_create has set the bots and scopes
            super().save_related(request, form, formsets, change)
            # Listing bots (scopes) limits the key to them; clearing the lists does not lift
            # the limit by itself (untick "limited to ..." for that), since deleting its last
            # bot empties the list too.
            key = form.instance
            bots, scopes = key.bots.exists(), key.scopes.exists()
            if (bots and not key.limited_to_bots) or (scopes and not key.limited_to_scopes):
                key.limited_to_bots = key.limited_to_bots or bots
                key.limited_to_scopes = key.limited_to_scopes or scopes
                key.save(update_fields=["limited_to_bots", "limited_to_scopes", "updated_at"])
            self._forget_cached(key.pk)

    def delete_model(self, request, obj):
        key_id = obj.pk
        super().delete_model(request, obj)
        self._forget_cached(key_id)

    def delete_queryset(self, request, queryset):
        key_ids = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        for key_id in key_ids:
            self._forget_cached(key_id)

    @staticmethod
    def _forget_cached(key_id) -> None:
        """A changed (revoked, restricted) or deleted key stops working as it was at once."""
        invalidate_key_cache(key_id=key_id)
        transaction.on_commit(lambda: invalidate_key_cache(key_id=key_id))
