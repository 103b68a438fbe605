"""Tests keep their stored documents out of the development server's MEDIA_ROOT.

Repro (ops review): after test runs .data/media held 483 files that no database row named
(a third of them the hardening and conversation tests' documents), in the folder README's
"Backups" tells operators to copy with the dump.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from chatbot_project.testing.processes import BASE_DIR, settings_in_child

READ = "from django.conf import settings; print(settings.MEDIA_ROOT)"


def _media_root(**env: str) -> Path:
    unset = () if "MEDIA_ROOT" in env else ("MEDIA_ROOT",)
    done = settings_in_child(READ, unset=unset, **env)
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip())


def test_processes_the_tests_start_share_a_media_root_apart_from_development():
    development = BASE_DIR / ".data" / "media"
    ours = _media_root(TEST_DATABASE_NAME="test_example")
    assert ours == BASE_DIR / ".data" / "test-media-test_example"
    if "MEDIA_ROOT" not in os.environ:
        name = os.environ.get("TEST_DATABASE_NAME", "test_chatbot")
        assert Path(settings.MEDIA_ROOT) == BASE_DIR / ".data" / f"test-media-{name}"
    # Not under tests: the development folder, or MEDIA_ROOT when set.
    assert _media_root(TESTING="") == development
    assert _media_root(MEDIA_ROOT="/srv/media") == Path("/srv/media")
