"""ingest, reembed and seed_demo: a bad argument is one CommandError sentence and changes nothing;
seed_demo never loses a key (unwritable --key-file) nor revokes another file's key."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apikeys.authentication import context_for_key
from apikeys.models import APIKey
from datasets.models import Dataset, Document
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("dataset", "message"),
    [
        ("d" * 300, "--dataset: Ensure this field has no more than 200 characters"),
        ("a\x01b", "--dataset contains a control character"),
        ("\udcff", "--dataset is not valid UTF-8"),
        ("a\x00b", "--dataset contains the NUL character"),
        ("  ", "--dataset: This field may not be blank"),
    ],
)
def test_ingest_refuses_a_bad_dataset_name(tenant, tmp_path, dataset, message):
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nSome text.")
    with pytest.raises(CommandError, match=message):
        call_command("ingest", str(note), tenant="acme", dataset=dataset, sync=True)
    assert not Dataset.objects.exists()
    assert not Document.objects.exists()


def test_ingest_creates_no_dataset_for_a_missing_file(tenant, tmp_path):
    """A missing path (a typo, most often) was 'is neither a file, a folder nor an http(s) URL',
    which reads as if the file were there but of a wrong kind."""
    with pytest.raises(CommandError, match=r"missing.md does not exist \(give a file, a folder"):
        call_command("ingest", str(tmp_path / "missing.md"), tenant="acme", dataset="Inbox")
    assert not Dataset.objects.exists()


def test_ingest_refuses_a_target_that_is_not_utf8(tenant):
    with pytest.raises(CommandError, match="targets is not valid UTF-8"):
        call_command("ingest", "/tmp/\udcff.md", tenant="acme", dataset="Inbox")
    assert not Dataset.objects.exists()


def test_reembed_unknown_tenant_is_an_error(tenant):
    with pytest.raises(CommandError, match="No tenant 'nope'"):
        call_command("reembed", tenant="nope", stdout=io.StringIO())


def test_seed_demo_checks_the_key_file_before_changing_anything(tmp_path):
    with pytest.raises(CommandError, match="Cannot write the key file /proc/nope/key"):
        call_command("seed_demo", key_file="/proc/nope/key", stdout=io.StringIO())
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(CommandError, match="is a folder"):
        call_command("seed_demo", key_file=folder, stdout=io.StringIO())
    assert not Tenant.objects.exists()
    assert not APIKey.objects.exists()


def test_seed_demo_revokes_only_keys_written_to_the_same_file(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-123")
    first, second = tmp_path / "one" / "demo_api_key", tmp_path / "two" / "demo_api_key"
    call_command("seed_demo", key_file=first, stdout=io.StringIO())
    keys_one = [first.read_text().strip(), first.with_name("demo_widget_key").read_text().strip()]

    call_command("seed_demo", key_file=second, stdout=io.StringIO())
    keys_two = [second.read_text().strip(), second.with_name("demo_widget_key").read_text().strip()]
    assert all(context_for_key(raw) is not None for raw in keys_one + keys_two)

    # Another port: the widget key in the first folder is replaced and only that one revoked.
    monkeypatch.setenv("PORT", "8123")
    call_command("seed_demo", key_file=first, stdout=io.StringIO())
    widget = context_for_key(first.with_name("demo_widget_key").read_text().strip())
    assert "http://127.0.0.1:8123" in widget.allowed_origins
    assert context_for_key(keys_one[1]) is None
    assert context_for_key(keys_one[0]) is not None
    assert all(context_for_key(raw) is not None for raw in keys_two)
    assert APIKey.objects.filter(revoked_at__isnull=True).count() == 4
