"""manage.py create_bot: a bot as POST /v1/bots makes it, datasets by name, errors as sentences."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bots.models import Bot
from bots.tests.factories import ScopeFactory
from datasets.tests.factories import DatasetFactory, DocumentFactory

pytestmark = pytest.mark.django_db


def _create(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_bot", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_creates_the_bot_over_named_datasets_and_prints_its_slug(tenant, tmp_path):
    handbook = DatasetFactory(tenant=tenant, name="Handbook")
    faq = DatasetFactory(tenant=tenant, name="FAQ")
    DocumentFactory(tenant=tenant, dataset=handbook, status="ready")
    scope = ScopeFactory(tenant=tenant, slug="public")
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Answer politely.\n", encoding="utf-8")
    out, err = _create(
        "--tenant", "acme", "--name", "Support Bot", "--datasets", f"Handbook,{faq.id}",
        "--system-prompt-file", str(prompt), "--top-k", "8", "--mode", "vector",
        "--score-threshold", "0.2", "--scope", "public", "--temperature", "0.3",
    )  # fmt: skip
    assert out.strip().splitlines()[-1] == "support-bot"
    bot = Bot.objects.get(tenant=tenant, slug="support-bot")
    assert {d.name for d in bot.datasets.all()} == {"Handbook", "FAQ"}
    assert (bot.top_k, bot.retrieval_mode, bot.score_threshold) == (8, "vector", 0.2)
    assert bot.system_prompt == "Answer politely."  # trimmed, as the API trims it
    assert bot.default_scope_id == scope.id
    assert bot.temperature == 0.3
    assert bot.is_active
    assert "Created bot 'support-bot' (Support Bot) in tenant acme over 'Handbook', 'FAQ'" in err
    assert "(1 documents ready)" in err
    assert "manage.py chat --tenant acme --bot support-bot" in err


def test_defaults_and_inactive(tenant):
    _out, err = _create("--tenant", "acme", "--name", "Plain", "--slug", "plain", "--inactive")
    bot = Bot.objects.get(tenant=tenant, slug="plain")
    assert not bot.is_active
    assert not bot.datasets.exists()
    assert bot.retrieval_mode == "hybrid"
    assert "over no datasets yet" in err
    assert "switched off" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--datasets", "Nope"], r"No dataset 'Nope' in tenant 'acme' \(its datasets: Handbook\)"),
        (["--datasets", " , "], "--datasets is empty"),
        (["--top-k", "99"], "--top-k: Ensure this value is less than or equal to 50"),
        (["--mode", "fuzzy"], '--mode: "fuzzy" is not a valid choice'),
        (["--score-threshold", "2"], "--score-threshold: Ensure this value is less than"),
        (["--temperature", "9"], "--temperature: Ensure this value is less than"),
        (["--slug", "Not A Slug"], "--slug: "),
        (["--scope", "nope"], "No scope 'nope' in tenant 'acme'"),
        (["--system-prompt-file", "/nonexistent/p.txt"], "--system-prompt-file /nonexistent"),
        (["--name", "a\x01b"], "--name contains a control character"),
    ],
)
def test_refuses_what_the_api_refuses_and_creates_nothing(tenant, args, message):
    DatasetFactory(tenant=tenant, name="Handbook")
    base = ["--tenant", "acme", "--name", "Bot"]
    if "--name" in args:
        base = ["--tenant", "acme"]
    with pytest.raises(CommandError, match=message):
        _create(*base, *args)
    assert not Bot.objects.exists()


def test_taken_slug_unknown_tenant_and_other_tenants_datasets(tenant, other_tenant):
    _create("--tenant", "acme", "--name", "Support")
    with pytest.raises(CommandError, match="A bot with the slug 'support' already exists"):
        _create("--tenant", "acme", "--name", "Support")
    with pytest.raises(CommandError, match="No tenant 'nope'; create it with"):
        _create("--tenant", "nope", "--name", "x")
    # Another tenant's dataset, by name or by id, is not found (tenant isolation).
    theirs = DatasetFactory(tenant=other_tenant, name="Secret")
    for ref in ("Secret", str(theirs.id)):
        with pytest.raises(CommandError, match=f"No dataset '{ref}' in tenant 'acme'"):
            _create("--tenant", "acme", "--name", "Other", "--datasets", ref)
    ScopeFactory(tenant=other_tenant, slug="their-scope")
    with pytest.raises(CommandError, match="No scope 'their-scope'"):
        _create("--tenant", "acme", "--name", "Other", "--scope", "their-scope")
    assert list(Bot.objects.values_list("slug", flat=True)) == ["support"]


def test_a_reader_that_goes_away_ends_the_command_quietly():
    """`manage.py ... | head -1`: the reader closes the pipe; the command used to end with a
    BrokenPipeError traceback on stderr. Now: no traceback, exit status 141 (as SIGPIPE)."""
    base = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "help", "--commands"], cwd=base,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=dict(os.environ, SECRET_KEY="k" * 50, DEBUG="true"),
    )  # fmt: skip
    proc.stdout.close()  # the reader is gone before the first line
    _, err = proc.communicate(timeout=60)
    assert b"Traceback" not in err, err.decode()
    assert proc.returncode == 141


def test_a_schema_older_than_the_code_is_a_sentence_naming_migrate(tenant):
    """An upgrade without `migrate` (here: a column renamed away, rolled back with the test's
    transaction) made every command end in a ProgrammingError traceback."""
    from django.db import connection

    DatasetFactory(tenant=tenant, name="Handbook")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE datasets_dataset RENAME COLUMN chunk_size TO chunk_size_old")
    with pytest.raises(CommandError, match=r"The database schema is older than this code \(col"):
        _create("--tenant", "acme", "--name", "Bot", "--datasets", "Handbook")
