"""Helpers of the admin tests: a signed-in admin client (TOTP), tenant data, admin URLs, forms."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from apikeys.tests.factories import APIKeyFactory
from bots.tests.factories import BotFactory, ScopeFactory
from conversations.tests.factories import ConversationFactory, MessageFactory
from datasets.tests.factories import ChunkFactory, DatasetFactory, DocumentFactory
from tenants.tests.factories import MembershipFactory, UserFactory

APPS = ("apikeys", "bots", "conversations", "datasets", "tenants")
KINDS = ("bot", "scope", "dataset", "document", "chunk", "conversation", "message", "apikey")


def tenant_data(tenant) -> dict:
    """One object of every kind in ``tenant`` (and a ``member`` membership of a new user)."""
    dataset = DatasetFactory(tenant=tenant, name=f"{tenant.slug} dataset")
    scope = ScopeFactory(tenant=tenant, slug=f"{tenant.slug}-scope", datasets=[dataset])
    bot = BotFactory(
        tenant=tenant, slug=f"{tenant.slug}-bot", datasets=[dataset], default_scope=scope
    )
    document = DocumentFactory(dataset=dataset, title=f"{tenant.slug} document")
    conversation = ConversationFactory(bot=bot, title=f"{tenant.slug} conversation")
    return {
        "bot": bot,
        "scope": scope,
        "dataset": dataset,
        "document": document,
        "chunk": ChunkFactory(document=document),
        "conversation": conversation,
        "message": MessageFactory(conversation=conversation),
        "apikey": APIKeyFactory(tenant=tenant, name=f"{tenant.slug} key"),
        "membership": MembershipFactory(tenant=tenant, user=UserFactory(), role="member"),
    }


def admin_client(client, user):
    """``client`` signed in to the admin as ``user`` with a verified TOTP device."""
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    token = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    res = client.post(
        "/admin/login/?next=/admin/",
        {
            "username": user.username,
            "password": "correct-horse-battery",
            "otp_device": device.persistent_id,
            "otp_token": f"{token:06d}",
        },
    )
    assert res.status_code == 302, res.content[:500]
    return client


def staff_client(client, roles: dict, *, username: str = "acme-staff", apps=APPS):
    """``client`` signed in as a staff user with ``roles`` (tenant -> membership role) and every
    Django permission on the models of ``apps``."""
    user = UserFactory(username=username, is_staff=True)
    for tenant, role in roles.items():
        MembershipFactory(tenant=tenant, user=user, role=role)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=apps))
    client.staff_user = user
    return admin_client(client, user)


def admin_url(obj, view: str = "change") -> str:
    opts = obj._meta
    suffix = "" if view == "changelist" else f"{obj.pk}/{view}/"
    return f"/admin/{opts.app_label}/{opts.model_name}/{suffix}"


def bot_form(bot, **overrides) -> dict:
    """The admin change form of ``bot`` as stored, with ``overrides``."""
    data = {
        "tenant": str(bot.tenant_id),
        "name": bot.name,
        "slug": bot.slug,
        "system_prompt": bot.system_prompt,
        "model": bot.model,
        "temperature": bot.temperature,
        "max_tokens": bot.max_tokens,
        "datasets": [str(d.pk) for d in bot.datasets.all()],
        "top_k": bot.top_k,
        "score_threshold": bot.score_threshold,
        "retrieval_mode": bot.retrieval_mode,
        "default_scope": str(bot.default_scope_id or ""),
        "is_active": "on",
    }
    data.update(overrides)
    return data


def as_posted(form, **overrides) -> dict:
    """The data a browser posts for ``form`` as shown (its initial values), with ``overrides``."""
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is True:
            data[name] = "on"
        elif value is not None and value is not False:
            data[name] = [str(v) for v in value] if isinstance(value, list) else str(value)
    data.update(overrides)
    return data
