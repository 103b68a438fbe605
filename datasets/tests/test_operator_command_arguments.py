"""seed_demo and reembed: arguments an operator's script can get wrong (an empty variable, a
key-file name seed_demo uses itself) are one CommandError sentence and change nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apikeys.models import APIKey
from datasets.models import Document
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path, monkeypatch):
    """seed_demo's default key file is in a temporary folder, never the developer's .data/."""
    monkeypatch.setattr(
        "datasets.management.commands.seed_demo.default_key_file",
        lambda: tmp_path / "default" / "demo_api_key",
    )


@pytest.mark.parametrize("key_file", ["", "/"])
def test_seed_demo_refuses_a_key_file_that_is_no_file_name(key_file):
    with pytest.raises(CommandError, match="is not a file name"):
        call_command("seed_demo", "--key-file", key_file, stdout=io.StringIO())
    assert not Tenant.objects.exists()


def test_seed_demo_refuses_the_widget_key_files_name(tmp_path):
    """Both keys went to the same file: the chat+read key was overwritten (left active, its
    value lost) and every run replaced both."""
    with pytest.raises(CommandError, match="cannot be named demo_widget_key"):
        call_command("seed_demo", key_file=tmp_path / "demo_widget_key", stdout=io.StringIO())
    assert not Tenant.objects.exists()
    assert not APIKey.objects.exists()


@pytest.mark.parametrize("option", ["tenant", "dataset"])
@pytest.mark.parametrize("value", ["", " "])
def test_reembed_refuses_an_empty_filter(tenant, option, value):
    out = io.StringIO()
    with pytest.raises(CommandError, match=f"--{option} is empty"):
        call_command("reembed", "--all", f"--{option}", value, stdout=out)
    assert out.getvalue() == ""


def test_seed_demo_run_again_says_what_is_there(tmp_path, monkeypatch):
    """A second run that changed nothing printed nothing at all."""
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-123")
    monkeypatch.setenv("PORT", "8123")
    key_file = tmp_path / "keys" / "demo_api_key"
    call_command("seed_demo", key_file=key_file, stdout=io.StringIO())
    out = io.StringIO()
    call_command("seed_demo", key_file=key_file, stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("demo: tenant 'demo', bot 'demo': ")
    assert " documents ready (" in lines[0]
    assert f"chat + read key in {key_file}, browser key (for http://localhost:8123/demo/) in " \
        f"{key_file.parent / 'demo_widget_key'}." in lines[0]  # fmt: skip


@pytest.mark.parametrize("timeout", ["nan", "0", "-5"])
def test_ingest_refuses_a_timeout_that_is_no_time(tenant, tmp_path, timeout):
    """--wait --timeout nan waited for ever (nothing is later than nan); 0 or less gave up at
    once, with the documents already queued."""
    path = tmp_path / "a.md"
    path.write_text("# A\n\nSome text.\n")
    with pytest.raises(CommandError, match=r"--timeout .*: give a number of seconds above 0"):
        call_command(
            "ingest", str(path), tenant=tenant.slug, dataset="D", wait=True,
            timeout=float(timeout), stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip
    assert not Document.objects.exists()
