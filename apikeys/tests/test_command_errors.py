"""create_api_key validates like POST /v1/api-keys: what the API refuses, the command refuses
with one CommandError sentence, and no key is created."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apikeys.models import APIKey

pytestmark = pytest.mark.django_db


def _create(*args: str) -> None:
    call_command(
        "create_api_key", "--tenant", "acme", *args, stdout=io.StringIO(), stderr=io.StringIO()
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "x", "--origins", "notaurl"], "--origins: 'notaurl' is not an origin"),
        (["--name", "x", "--origins", "javascript:alert(1)"], "is not an origin"),
        (["--name", "x", "--origins", "https://ok.example,ftp://x"], "'ftp://x' is not an origin"),
        (["--name", "n" * 300], "--name: Ensure this field has no more than 200 characters"),
        (["--name", "a\x01b"], "--name contains a control character"),
        (["--name", "\udcff"], "--name is not valid UTF-8"),
        (["--name", "x", "--origins", "https://a\x00.example"], "--origins contains the NUL"),
        (["--name", "x", "--rate-limit", "9/fortnight"], "--rate-limit: Use"),
    ],
)
def test_create_api_key_refuses_what_the_api_refuses(tenant, args, message):
    with pytest.raises(CommandError, match=message):
        _create(*args)
    assert not APIKey.objects.exists()


def test_unknown_tenant_with_bad_text_is_a_sentence(db):
    with pytest.raises(CommandError, match="--tenant is not valid UTF-8"):
        call_command("create_api_key", "--tenant", "\udcff", "--name", "x")


@pytest.mark.parametrize("option", ["--permissions", "--bots", "--scopes", "--origins"])
@pytest.mark.parametrize("value", ["", " , "])
def test_an_option_given_empty_is_refused_not_read_as_no_restriction(tenant, option, value):
    """`--bots "$BOTS"` with the variable unset made a key for every bot (and --permissions ""
    a key that could do nothing)."""
    with pytest.raises(CommandError, match=f"{option} is empty; "):
        _create("--name", "x", option, value)
    assert not APIKey.objects.exists()


def test_the_summary_names_the_keys_limits(tenant):
    from conversations.tests.factories import BotFactory

    BotFactory(tenant=tenant, slug="support")
    err = io.StringIO()
    call_command(
        "create_api_key", "--tenant", "acme", "--name", "site", "--permissions", "chat",
        "--bots", "support", "--origins", "https://www.acme.com", "--rate-limit", "30/m",
        stdout=io.StringIO(), stderr=err,
    )  # fmt: skip
    assert (
        "with chat permissions (bots support; origins https://www.acme.com; rate limit 30/m)"
        in err.getvalue()
    )
    err = io.StringIO()
    call_command("create_api_key", "--tenant", "acme", "--name", "all", stdout=io.StringIO(),
                 stderr=err)  # fmt: skip
    assert "with chat, read permissions (every bot; any origin)" in err.getvalue()
