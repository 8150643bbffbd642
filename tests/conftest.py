"""Shared fixtures: a private copy of the committed fixture corpus and a database path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _isolated_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """No developer warehouse.toml or environment leaks into tests."""
    monkeypatch.delenv("WAREHOUSE_CONFIG", raising=False)
    monkeypatch.delenv("WAREHOUSE_RAISE", raising=False)


@pytest.fixture
def fixture_runs(tmp_path: Path) -> Path:
    """A writable copy of tests/fixtures/runs (the committed small corpus)."""
    target = tmp_path / "runs"
    shutil.copytree(FIXTURES / "runs", target)
    return target


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "db" / "runs.duckdb"
