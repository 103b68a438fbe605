from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    """Stored files go to a per-test directory (generated names, see Document.file)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return


@pytest.fixture
def corpus() -> Path:
    path = Path(settings.BASE_DIR).parent / "shared" / "corpus"
    if not path.exists():
        pytest.skip("the shared corpus is not beside the repository")
    return path
