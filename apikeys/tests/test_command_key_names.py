"""rotate_api_key and revoke_api_key take a key's name ("website") as well as the whole key, its
prefix or its id: when exactly one working key of the tenant has that name. A name several
working keys share is refused with their prefixes and creation dates, in one line."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from apikeys import keys
from apikeys.models import APIKey
from apikeys.services import api_key_create, api_key_revoke, api_key_rotate

pytestmark = pytest.mark.django_db


def _key(tenant, name="website", **kw) -> APIKey:
    row, _raw = api_key_create(tenant=tenant, name=name, permissions=["chat"], **kw)
    return row


def _run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _one_line_error(command: str, *args: str) -> str:
    with pytest.raises(CommandError) as caught:
        _run(command, *args)
    message = str(caught.value)
    assert "\n" not in message, message
    return message


def test_rotate_by_the_name_of_the_one_working_key(tenant, other_tenant):
    gone = _key(tenant)
    api_key_revoke(tenant=tenant, key=gone)  # a revoked key of that name does not count
    _key(tenant, expires_at=timezone.now() + timedelta(seconds=1))
    APIKey.objects.filter(tenant=tenant, expires_at__isnull=False).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )  # nor an expired one
    _key(other_tenant)  # nor another tenant's
    live = _key(tenant)
    out = _run("rotate_api_key", "--tenant", tenant.slug, "website", "--previous-valid-for", "0")
    assert f"Old key {live.prefix}… 'website' of tenant {tenant.slug}: revoked now" in out
    new = APIKey.objects.get(prefix=keys.public_prefix(out.strip().splitlines()[-1]))
    assert new.rotated_from_id == live.id
    assert new.name == "website"


def test_a_name_shared_by_working_keys_lists_their_prefixes_and_dates(tenant):
    old = _key(tenant)
    new, _raw, _old = api_key_rotate(tenant=tenant, key=old, previous_valid_for=3600)
    # In its grace period the old key still works: "website" names both.
    message = _one_line_error("rotate_api_key", "--tenant", tenant.slug, "website")
    assert message.startswith(f"2 working API keys of tenant '{tenant.slug}' are named 'website'")
    for row in (old, new):
        assert f"{row.prefix}… (created {row.created_at:%Y-%m-%d %H:%M} UTC)" in message
    assert "name one by its prefix (nothing was rotated)" in message
    assert not APIKey.objects.filter(rotated_from=new).exists()
    # The operator picks one by its prefix.
    _run("rotate_api_key", "--tenant", tenant.slug, new.prefix, "--previous-valid-for", "0")
    assert APIKey.objects.filter(rotated_from=new).count() == 1

    message = _one_line_error("revoke_api_key", "--tenant", tenant.slug, "website")
    assert "working API keys of tenant 'acme' are named 'website'" in message
    assert "nothing was revoked" in message


def test_unknown_or_only_revoked_names_are_one_line_errors(tenant, other_tenant):
    _key(other_tenant, name="theirs")
    for name in ("nope", "theirs"):
        message = _one_line_error("rotate_api_key", "--tenant", tenant.slug, name)
        assert message == (
            f"No API key {name!r} in tenant 'acme' (name a key by the whole key, its prefix, "
            "its id or its name; nothing was rotated)."
        )
    old = _key(tenant, name="old site")
    api_key_revoke(tenant=tenant, key=old)
    message = _one_line_error("rotate_api_key", "--tenant", tenant.slug, "old site")
    assert message.startswith("No working API key of tenant 'acme' is named 'old site'")
    assert f"{old.prefix}… (created " in message
    assert not APIKey.objects.filter(rotated_from__isnull=False).exists()
    assert APIKey.objects.filter(name="theirs", revoked_at__isnull=True).exists()


def test_revoke_by_name_within_the_tenant_only(tenant, other_tenant):
    mine, theirs = _key(tenant, name="ci"), _key(other_tenant, name="ci")
    # Without --tenant a name is not enough: it may be any tenant's.
    message = _one_line_error("revoke_api_key", "ci")
    assert "give --tenant <slug> to name one by its name" in message
    assert not APIKey.objects.filter(revoked_at__isnull=False).exists()

    out = _run("revoke_api_key", "--tenant", tenant.slug, "ci")
    assert f"{mine.prefix}… 'ci' of tenant acme: revoked" in out
    assert APIKey.objects.get(id=mine.id).revoked_at is not None
    assert APIKey.objects.get(id=theirs.id).revoked_at is None
    # All or none: a known name with an unknown one revokes nothing.
    other = _key(tenant, name="mobile")
    _one_line_error("revoke_api_key", "--tenant", tenant.slug, "mobile", "nope")
    assert APIKey.objects.get(id=other.id).revoked_at is None
    # Named twice (by name and prefix) it is revoked once.
    out = _run("revoke_api_key", "--tenant", tenant.slug, "mobile", other.prefix)
    assert out.count("revoked") == 1


def test_an_error_never_repeats_a_whole_key(tenant):
    raw = api_key_create(tenant=tenant, name="x")[1]
    typo = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    message = _one_line_error("rotate_api_key", "--tenant", tenant.slug, typo)
    assert typo not in message
    assert typo[: keys.PREFIX_LEN] + "…" in message
