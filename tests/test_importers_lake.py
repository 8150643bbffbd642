"""Imported results on the DuckLake backend: the same rows as in an embedded warehouse."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lake_support import assert_same, new_lake, require_services, snapshot

from warehouse.core.config import load_config

pytestmark = pytest.mark.lake
FIXTURES = Path(__file__).parent / "fixtures" / "importers"


def test_imports_land_the_same_on_the_lake(tmp_path: Path) -> None:
    from ingest import ingest_runs

    runs = tmp_path / "runs"
    (runs / "promptfoo").mkdir(parents=True)
    shutil.copy(FIXTURES / "promptfoo" / "results.json", runs / "promptfoo" / "results.json")
    shutil.copytree(FIXTURES / "lm_eval" / "out", runs / "lm_eval")
    embedded = tmp_path / "embedded.duckdb"
    ingest_runs(str(runs), str(embedded), config=load_config(None))
    lake = new_lake(require_services(), tmp_path, s3=False)
    done = subprocess.run(
        [sys.executable, "-m", "warehouse", "lake", "ingest", str(runs), "--db", lake.url, "--json", "-q"],
        env=lake.env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["files_new"] == 2 and summary["lines_quarantined"] == 0
    assert_same(snapshot(str(embedded)), snapshot(lake.url, lake))
