"""Tests marked ``hardening`` are slow (a live server fuzzed for minutes): ``make hardening`` runs
them (``-m hardening``); a plain ``pytest``/``make test`` skips them and runs the fast ones."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "hardening" in (config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason="slow hardening test: run by `make hardening`")
    for item in items:
        if item.get_closest_marker("hardening"):
            item.add_marker(skip)
