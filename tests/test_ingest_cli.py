"""The ingest/query/status commands as a user runs them, and the pinned duckdb shell."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def warehouse(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warehouse", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_ingest_json_summary_and_stderr_talk(fixture_runs: Path, db_path: Path) -> None:
    done = warehouse("ingest", str(fixture_runs), "--db", str(db_path), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)  # stdout is data only
    assert summary["lines_good"] == 33 and summary["lines_quarantined"] == 3
    assert "skipped 2 non-log file(s) or link(s)" in done.stderr and "33 loaded" in done.stderr


def test_default_paths_are_runs_and_runs_duckdb(fixture_runs: Path) -> None:
    cwd = fixture_runs.parent
    done = warehouse("ingest", "-q", cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert (cwd / "runs" / "runs.duckdb").exists()
    status = warehouse("status", "--json", cwd=cwd)
    assert json.loads(status.stdout)["quarantined_lines"] == 3


def test_database_opens_in_the_pinned_duckdb_shell(fixture_runs: Path) -> None:
    shell = shutil.which("duckdb", path=str(Path(sys.executable).parent)) or shutil.which("duckdb")
    if shell is None:
        pytest.skip("duckdb-cli is not installed (pip install duckdb-cli==1.5.5)")
    cwd = fixture_runs.parent
    assert warehouse("ingest", "-q", cwd=cwd).returncode == 0
    version = subprocess.run([shell, "--version"], capture_output=True, text=True).stdout
    assert version.startswith("v1.5"), version
    out = subprocess.run(
        [shell, "-readonly", "runs/runs.duckdb", "-c", "select count(*) from steps"],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "20" in out.stdout or "21" in out.stdout  # steps of the kept copies


def test_query_formats(fixture_runs: Path, db_path: Path) -> None:
    assert warehouse("ingest", str(fixture_runs), "--db", str(db_path), "-q").returncode == 0
    sql = "select kind, count(*) as n from records group by kind order by kind"
    as_json = json.loads(warehouse("query", sql, "--db", str(db_path), "--json").stdout)
    assert as_json == [{"kind": "header", "n": 11}, {"kind": "run_end", "n": 1}, {"kind": "step", "n": 21}]
    as_csv = warehouse("query", sql, "--db", str(db_path), "--csv").stdout.splitlines()
    assert as_csv == ["kind,n", "header,11", "run_end,1", "step,21"]
    table = warehouse("query", sql, "--db", str(db_path)).stdout.splitlines()
    assert table[0].split() == ["kind", "n"] and table[2].split() == ["header", "11"]


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["ingest", "/nonexistent/runs"], 2, "does not exist"),
        (["query", "select * from no_such_view"], 3, "query failed"),
        (["status", "--db", "/nonexistent/x.duckdb"], 2, "run 'warehouse ingest' first"),
        (["query", "select 1", "--bogus"], 2, "No such option"),
    ],
)
def test_user_mistakes_give_one_line_and_a_code(
    args: list[str], code: int, words: str, fixture_runs: Path, db_path: Path
) -> None:
    assert warehouse("ingest", str(fixture_runs), "--db", str(db_path), "-q").returncode == 0
    if args[0] == "query" and "--db" not in args:
        args = [*args, "--db", str(db_path)]
    done = warehouse(*args)
    assert done.returncode == code, done.stderr
    assert words in done.stderr and "Traceback" not in done.stderr


def test_query_cannot_touch_files_without_allow_external(
    fixture_runs: Path, db_path: Path, tmp_path: Path
) -> None:
    assert warehouse("ingest", str(fixture_runs), "--db", str(db_path), "-q").returncode == 0
    target = tmp_path / "exfil.csv"
    for sql in [
        "select * from read_text('/etc/hostname')",
        f"copy (select 1) to '{target}'",
        f"attach '{tmp_path / 'x.duckdb'}' as x",
    ]:
        done = warehouse("query", sql, "--db", str(db_path))
        assert done.returncode != 0
    assert not target.exists() and not (tmp_path / "x.duckdb").exists()
