"""Recipes of the docs a newcomer runs literally, against what the code does (docs pass).

- docs/running.md "Using your own PostgreSQL and Redis" said: set DATABASE_URL and REDIS_URL,
  migrate, serve. Run so, every command stopped with "Set SECRET_KEY" (DEBUG is off outside
  `make run` and the database is not the embedded one), then the API answered 301 to https://
  over plain HTTP; and `celery` is only on PATH in the activated virtual environment.
- docs/api.md "Adding documents" posted to `$DATASET`, which nothing set, with the `$KEY` of
  the section before (the demo key: `chat` and `read`, a 403 on `POST /v1/datasets`).
- README's backups said to keep SECRET_KEY with the dump, while `make run` users never set one:
  theirs is `.data/secret_key`.
- README showed `create_api_key` without its required `--tenant` and `--name`.
- docs/ingestion.md and docs/widget.md ran `python manage.py`, which outside the activated
  `.venv` has no Django (or no `python` at all).
"""

from __future__ import annotations

import re

from chatbot_project.testing.processes import BASE_DIR, settings_in_child


def _flat(path: str) -> str:
    return " ".join((BASE_DIR / path).read_text().split())


def _section(path: str, heading: str) -> str:
    text = (BASE_DIR / path).read_text()
    found = re.search(rf"#+ {re.escape(heading)}\n(.*?)(?=\n#+ |\Z)", text, re.DOTALL)
    assert found, f"{path} has no section {heading!r}"
    return found.group(1)


def test_running_with_own_services_names_what_production_settings_need():
    section = " ".join(_section("docs/running.md", "Using your own PostgreSQL and Redis").split())
    assert "`SECRET_KEY`" in section
    assert "`SECURE_SSL_REDIRECT=false`" in section
    assert "`. .venv/bin/activate`" in section
    # What it says is so: an external DATABASE_URL without DEBUG or SECRET_KEY stops at start...
    code = "from django.conf import settings; print(settings.SECURE_SSL_REDIRECT)"
    unset = ("TESTING", "DEBUG", "SECRET_KEY", "SECRET_KEY_FILE", "SECURE_SSL_REDIRECT")
    done = settings_in_child(code, unset=unset)
    assert done.returncode != 0
    assert "Set SECRET_KEY" in done.stderr
    # ... and with a key, plain HTTP is redirected unless SECURE_SSL_REDIRECT=false.
    done = settings_in_child(code, unset=unset[:2] + unset[3:], SECRET_KEY="k" * 60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "True"


def test_adding_documents_sets_the_dataset_and_names_the_permission():
    section = _section("docs/api.md", "Adding documents")
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL).group(1)
    assert "DATASET=$(curl" in block
    assert block.index("DATASET=") < block.index("$DATASET")
    assert "`write` permission" in " ".join(section.split())


def test_backups_say_where_the_local_secret_key_is():
    backups = " ".join(_section("README.md", "Backups, restores and upgrades").split())
    assert "`.data/secret_key`" in backups
    source = (BASE_DIR / "chatbot_project" / "embedded.py").read_text()
    assert 'path = DATA_DIR / "secret_key"' in source


def test_commands_in_docs_run_with_the_virtual_environment():
    for path in ("README.md", *sorted(p.name for p in (BASE_DIR / "docs").glob("*.md"))):
        name = path if path == "README.md" else f"docs/{path}"
        for block in re.findall(r"```bash\n(.*?)```", (BASE_DIR / name).read_text(), re.DOTALL):
            for line in block.splitlines():
                assert not line.startswith("python manage.py"), (name, line)


def test_every_create_api_key_shown_names_its_required_options():
    """README's widget paragraph showed `create_api_key --permissions chat --bots demo --origins
    ...`, which exits 2: "the following arguments are required: --tenant, --name"."""
    for name in ("README.md", "docs/running.md", "docs/widget.md"):
        text = _flat(name)
        shown = re.findall(r"create_api_key --[^`]*", text)
        assert shown, name
        for command in shown:
            assert "--tenant " in command, (name, command)
            assert "--name " in command, (name, command)


def test_routes_named_in_the_docs_exist_and_staff_learn_to_refresh():
    """docs/api.md told staff to log in for a JWT that lasts 15 minutes and never named
    `POST /v1/auth/token/refresh` (nor what the login takes): a newcomer signed in again."""
    from django.urls import Resolver404, resolve

    uuid = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
    named = set()
    for name in ("README.md", "docs/api.md", "docs/ingestion.md", "docs/widget.md"):
        named |= set(re.findall(r"(?:GET|POST|PATCH|DELETE|PUT) `?(/v1/[a-z_/{}.-]*)", _flat(name)))
    assert "/v1/auth/token" in named
    for route in sorted(named):
        path = re.sub(r"\{[a-z_]+\}", uuid, route)
        try:
            resolve(path)
        except Resolver404:
            raise AssertionError(f"the docs name {route}, which is not a route") from None
    api = _flat("docs/api.md")
    assert '`POST /v1/auth/token/refresh` with `{"refresh": ...}`' in api
    assert '`POST /v1/auth/logout` with `{"refresh": ...}`' in api


def test_pagination_says_where_the_next_cursor_is():
    """docs/api.md named `?cursor=` but not that it is the `next` of the page before."""
    assert "`?cursor=` (the previous page's `next`" in _flat("docs/api.md")


def test_grounding_recipe_shows_the_bodies_it_needs():
    """docs/api.md said "give the bot a `score_threshold` and its scope `require_grounding`";
    `{"score_threshold": 0.25}` on the bot is a 400 (it sits under `retrieval`), and the scope
    applies to a widget's chats only as the bot's `default_scope`."""
    api = _flat("docs/api.md")
    assert '`{"retrieval": {"score_threshold": 0.25}, "default_scope": "<the scope\'s id>"}`' in api
    assert '`POST /v1/scopes` `{"name": "Grounded", "require_grounding": true,' in api


def test_restoring_over_the_database_stops_the_app_first():
    """README's restore, run as written over the live database of a running `make run`:
    pg_restore exited 0, then every /v1/chat and /v1/retrieve was a 500 ("cache lookup failed
    for type ...": the processes' prepared statements named the dropped `vector` type) until
    the server was restarted. The README did not say to stop the app."""
    backups = " ".join(_section("README.md", "Backups, restores and upgrades").split())
    assert "Stop the API and the workers first" in backups
    assert "`docker compose stop api worker`" in backups
