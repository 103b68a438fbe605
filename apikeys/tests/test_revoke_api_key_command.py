"""manage.py revoke_api_key: a leaked key revoked from the shell, by key, prefix or id."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apikeys.models import APIKey

pytestmark = pytest.mark.django_db


def _revoke(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("revoke_api_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_whole_key_prefix_or_id_revokes_it_and_requests_are_refused(
    tenant, make_key, client_for
):
    from rest_framework.test import APIClient

    raws = [make_key(tenant, name=f"k{i}") for i in range(3)]
    rows = [APIKey.objects.get(prefix=r[:12]) for r in raws]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raws[0]}")
    assert client.get("/v1/bots").status_code == 200  # cached in this process
    out, err = _revoke(raws[0], f"{rows[1].prefix}…", str(rows[2].id))
    assert f"{rows[0].prefix}… 'k0' of tenant acme: revoked" in out
    assert all(APIKey.objects.get(id=r.id).revoked_at for r in rows)
    assert "API_KEY_CACHE_SECONDS" in err
    assert client.get("/v1/bots").status_code == 401
    out, _ = _revoke(rows[1].prefix)
    assert "was already revoked" in out


def test_unknown_or_another_tenants_key_revokes_nothing(tenant, other_tenant, make_key):
    mine = make_key(tenant)
    theirs = make_key(other_tenant)
    wrong = mine[:-1] + ("A" if mine[-1] != "A" else "B")  # the prefix of a key, not the key
    for refs, message in (
        ([mine, "nope"], "No API key 'nope'"),
        ([wrong], "No API key"),
        ([theirs], "in tenant 'acme'"),
    ):
        with pytest.raises(CommandError, match=message):
            _revoke(*refs, "--tenant", "acme")
    assert not APIKey.objects.filter(revoked_at__isnull=False).exists()
    with pytest.raises(CommandError, match="No tenant 'nope'"):
        _revoke(mine, "--tenant", "nope")
