"""Shared fixtures: a private copy of the committed fixture corpus and a database path."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
# What a test run may write under a home directory; none of it may be the developer's real one.
_PER_TEST_DIRS = {
    "HOME": "home",
    "XDG_CONFIG_HOME": "config",
    "XDG_DATA_HOME": "data",
    "XDG_STATE_HOME": "state",
}


@pytest.fixture(scope="session", autouse=True)
def _session_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """HOME and XDG_* point into a temp dir from the start of the session (before any module or
    session fixture runs), so nothing a test or its subprocesses write lands in the real ~.

    XDG_CACHE_HOME stays one folder for the whole session: it holds the empty-schema template
    database (warehouse/store/snapshot.py) and the unpacked DuckDB extensions, which are costly
    to build and safe to share between tests."""
    base = tmp_path_factory.mktemp("session-home")
    with pytest.MonkeyPatch.context() as patch:
        for var, name in {**_PER_TEST_DIRS, "XDG_CACHE_HOME": "cache"}.items():
            (base / name).mkdir()
            patch.setenv(var, str(base / name))
        yield base


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own HOME, XDG_CONFIG_HOME, XDG_DATA_HOME and XDG_STATE_HOME (subprocesses
    inherit them through os.environ): no test sees another's or the developer's files."""
    base = tmp_path_factory.mktemp("home")
    for var, name in _PER_TEST_DIRS.items():
        (base / name).mkdir()
        monkeypatch.setenv(var, str(base / name))
    return base


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
