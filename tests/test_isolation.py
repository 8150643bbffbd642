"""Tests never write under the developer's real home: HOME and XDG_* point into temp dirs
(tests/conftest.py), and subprocesses inherit that."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path


def test_home_and_xdg_dirs_are_temp_dirs_not_the_real_home() -> None:
    real = Path(pwd.getpwuid(os.getuid()).pw_dir).resolve()
    for var in ("HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        path = Path(os.environ[var]).resolve()
        assert path.is_dir(), var
        assert real not in (path, *path.parents) or real == Path("/"), f"{var}={path} is under {real}"
    assert Path.home() == Path(os.environ["HOME"])


def test_a_subprocess_ingest_caches_its_template_in_the_test_cache(fixture_runs: Path, db_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "warehouse", "ingest", str(fixture_runs), "--db", str(db_path), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "runs-warehouse"
    assert sorted(cache.glob("template-*.duckdb")), f"no template under {cache}"
