"""A log written with a newer schema_version than this code knows is loaded as logged but
flagged: a `schema_version=N` row in schema_drift, a warning in the ingest summary and in
`warehouse status` (both load paths, and lines appended later too)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest import ingest_runs
from tests.ingest_support import rows, scalar
from warehouse.core.logformat import SCHEMA_VERSION

NEWER = SCHEMA_VERSION + 1


def _log(path: Path, version: int, steps: int) -> list[str]:
    """A run logged at `version`: a header, `steps` steps and a run end."""
    header = {"run_header": True, "schema_version": version, "run_id": f"v{version}", "ts": 5, "config": {}}
    lines = [json.dumps(header)]
    for i in range(steps):
        step = {"schema_version": version, "run_id": f"v{version}", "step": i, "ts": 6 + i}
        step["evaluation"] = {"correct": i % 2 == 0}
        step["presented_stem"] = "pad " * 100
        lines.append(json.dumps(step))
    end = {"run_end": True, "schema_version": version, "run_id": f"v{version}", "status": "complete"}
    lines.append(json.dumps(end))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lines


@pytest.mark.parametrize("fast", [True, False], ids=["fast path", "exact path"])
def test_a_newer_log_is_kept_and_flagged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast: bool) -> None:
    monkeypatch.setenv("WAREHOUSE_FAST_MIN_BYTES", "1")
    runs, db = tmp_path / "runs", tmp_path / "r.duckdb"
    newer = _log(runs / "exp" / "newer.jsonl", NEWER, 4)
    _log(runs / "exp" / "current.jsonl", SCHEMA_VERSION, 3)
    summary = ingest_runs(str(runs), str(db), fast=fast)
    assert summary.files_fast_path == (2 if fast else 0)
    assert summary.lines_good == 11 and summary.lines_newer_schema == 6
    assert f"WARNING 6 line(s) logged with a schema_version newer than {SCHEMA_VERSION}" in summary.line()
    got = rows(
        db,
        "SELECT r.line FROM records r JOIN files f USING (file_id) WHERE f.relpath = 'exp/newer.jsonl'"
        " ORDER BY r.line_no",
    )
    assert [line for (line,) in got] == newer  # lossless: each line as logged
    drift = rows(db, "SELECT key, kind, n_lines, first_line_no FROM schema_drift ORDER BY kind")
    key = f"schema_version={NEWER}"
    assert drift == [(key, "header", 1, 1), (key, "run_end", 1, 6), (key, "step", 4, 2)]

    with (runs / "exp" / "newer.jsonl").open("a", encoding="utf-8") as f:  # the run goes on
        f.write(json.dumps({"schema_version": NEWER, "run_id": f"v{NEWER}", "step": 9}) + "\n")
    again = ingest_runs(str(runs), str(db), fast=fast)
    assert again.lines_good == 1 and again.lines_newer_schema == 1
    assert scalar(db, f"SELECT n_lines FROM schema_drift WHERE key = '{key}' AND kind = 'step'") == 5


def test_status_and_the_ingest_command_say_so(tmp_path: Path) -> None:
    runs, db = tmp_path / "runs", tmp_path / "r.duckdb"
    _log(runs / "newer.jsonl", NEWER, 2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAREHOUSE_")}

    def warehouse(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "warehouse", *args], capture_output=True, text=True, env=env
        )
        assert done.returncode == 0, done.stderr
        return done

    ingested = warehouse("ingest", str(runs), "--db", str(db), "--quiet")
    assert ingested.stderr.startswith("ingest: WARNING 4 line(s)")  # a warning, even with --quiet
    ingested = warehouse("ingest", str(runs), "--db", str(db))
    assert "WARNING" not in ingested.stderr  # nothing new loaded this time
    status = warehouse("status", "--db", str(db), "--json")
    assert json.loads(status.stdout)["newer_schema_lines"] == 4
    assert f"4 line(s) were logged with a schema_version newer than {SCHEMA_VERSION}" in status.stderr
    db2 = tmp_path / "r2.duckdb"
    assert "WARNING 4 line(s)" in warehouse("ingest", str(runs), "--db", str(db2)).stderr
