""".env.example copied to .env (the compose recipe; or beside `make run`) without an OpenAI key
keeps the documented offline defaults, and it lists what the embedders and the embedded
services read too.

It set CHAT_MODEL=gpt-4o-mini and EMBEDDING_MODEL=text-embedding-3-small, README's defaults
with OPENAI_API_KEY only: copied without a key, the settings named OpenAI models beside the
offline providers (README: `extractive` / `local-minilm-l6-v2` without a key; answers did say
`extractive`). Its ALLOWED_HOSTS left out the default's `[::1]`. And it says it lists every
setting read while QUERY_MODEL_CACHE_DIR (README's table), MINILM_MODEL_DIR,
EMBEDDED_REDIS_PORT and EMBEDDED_DB_NAME were missing."""

from __future__ import annotations

import json
import re

from chatbot_project.env import dotenv_values
from chatbot_project.testing.processes import BASE_DIR, settings_in_child
from chatbot_project.tests.test_env_example import EXAMPLE, _variables_read

# Set by the test machinery for the child (services, secrets) or test-only.
OWN = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "MEDIA_ROOT", "EMBEDDED_DATA_DIR", "DEBUG"}


def test_a_copied_example_without_a_key_keeps_the_offline_defaults():
    values = {
        name: value
        for name, value in dotenv_values(EXAMPLE.read_text()).items()
        if name not in OWN and not name.startswith("TEST_")
    }
    assert values["OPENAI_API_KEY"] == ""
    code = (
        "from django.conf import settings as s; import json; "
        "print(json.dumps([s.CHAT_PROVIDER, s.CHAT_MODEL, s.EMBEDDING_PROVIDER, "
        "s.EMBEDDING_MODEL, s.ALLOWED_HOSTS]))"
    )
    done = settings_in_child(code, DEBUG="true", **values)
    assert done.returncode == 0, done.stderr
    chat, chat_model, embedder, embedding_model, hosts = json.loads(done.stdout.splitlines()[-1])
    assert (chat, chat_model) == ("extractive", "extractive")
    assert (embedder, embedding_model) == ("local", "local-minilm-l6-v2")
    assert hosts == ["localhost", "127.0.0.1", "[::1]"]  # README's default


def test_the_example_lists_what_the_embedders_and_embedded_services_read():
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", EXAMPLE.read_text(), re.MULTILINE))
    read = _variables_read(BASE_DIR / "chatbot_project" / "embedded.py")
    for path in sorted((BASE_DIR / "datasets" / "embedders").glob("*.py")):
        read |= _variables_read(path)
    assert {"QUERY_MODEL_CACHE_DIR", "EMBEDDED_REDIS_PORT"} <= read
    assert sorted(read - listed) == []


def test_the_example_lists_what_docker_compose_reads_from_env():
    """POSTGRES_PASSWORD (the db's password, default `chatbot`) was read by the compose file
    only, so nobody copying .env.example learnt it can be set."""
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", EXAMPLE.read_text(), re.MULTILINE))
    compose = (BASE_DIR / "docker-compose.yml").read_text()
    read = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", compose))
    assert {"POSTGRES_PASSWORD", "PORT", "WORKER_CONCURRENCY"} <= read
    assert sorted(read - listed) == []
