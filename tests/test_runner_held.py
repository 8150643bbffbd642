"""No run counted twice: after `warehouse archive` the logs are gone from runs/ but their runs are
in the warehouse, and `demo`, `sweep` and `run` skip that work (and say why) instead of redoing it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from runner.demo import demo_plan
from runner.identity import run_identity, spec_identity
from runner.plan import expand
from warehouse.store.db import open_reader


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "warehouse", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def _runs(db: Path) -> tuple[int, int]:
    con = open_reader(db)
    try:
        row = con.execute("SELECT count(*), count(DISTINCT run_id) FROM runs").fetchone()
        assert row is not None
        return int(row[0]), int(row[1])
    finally:
        con.close()


def test_archive_then_rerun_the_demo_finds_each_run_once(tmp_path: Path) -> None:
    n = len(
        expand(demo_plan(steps=5, seeds=3), "runs")
    )  # 36 MCQ runs, plus an SAQ and an alias run per student
    assert n >= 36
    _cli("demo", "--steps", "5", "--no-report", cwd=tmp_path)
    db = tmp_path / "runs" / "runs.duckdb"
    assert _runs(db) == (n, n)
    _cli("archive", "--min-age-minutes", "0", cwd=tmp_path)
    assert not list((tmp_path / "runs" / "demo").rglob("*.jsonl"))  # the logs are gone
    again = _cli("demo", "--steps", "5", "--no-report", cwd=tmp_path)
    assert f"{n} runs: {n} skip" in again.stderr
    assert f"skipped {n} run(s) the warehouse already holds complete ({n} archived)" in again.stderr
    assert "archive://" in again.stderr
    assert _runs(db) == (n, n)  # not 2n
    assert not list((tmp_path / "runs" / "demo").rglob("*.jsonl"))  # nothing was re-run


def test_a_sweep_with_other_seeds_still_runs_them(tmp_path: Path) -> None:
    _cli("demo", "--steps", "3", "--seeds", "1", "--no-report", cwd=tmp_path)
    _cli("archive", "--min-age-minutes", "0", cwd=tmp_path)
    first, both = (len(expand(demo_plan(steps=3, seeds=s), "runs")) for s in (1, 2))
    more = _cli("demo", "--steps", "3", "--seeds", "2", "--no-report", cwd=tmp_path)
    assert f"{both} runs: {both - first} run, {first} skip" in more.stderr
    assert _runs(tmp_path / "runs" / "runs.duckdb") == (both, both)


def test_run_skips_a_held_run_unless_asked_again(tmp_path: Path) -> None:
    args = ("run", "--student", "oracle", "--steps", "3", "--log", "runs/single/o.jsonl")
    _cli(*args, cwd=tmp_path)
    _cli("ingest", cwd=tmp_path)
    _cli("archive", "--min-age-minutes", "0", cwd=tmp_path)
    skipped = _cli(*args, cwd=tmp_path)
    assert json.loads(skipped.stdout)["status"] == "skipped"
    assert "the warehouse already holds this run complete (archive://" in skipped.stderr
    assert not (tmp_path / "runs/single/o.jsonl").exists()
    forced = _cli(*args, "--rerun", cwd=tmp_path)
    assert json.loads(forced.stdout)["status"] == "complete"


@pytest.mark.parametrize("index", [0, -2, -1])  # an MCQ, the SAQ and the alias-swap run of the demo
def test_spec_identity_equals_the_identity_of_its_logged_header(index: int) -> None:
    spec = expand(demo_plan(steps=4, seeds=1), "runs")[index]
    from runner.items import TemplateTutor
    from runner.redact import Redactor
    from runner.run import header

    h = header(spec, "rid", TemplateTutor(spec.seed, spec.num_options), Redactor())
    logged = run_identity(
        student=h["student"]["type"],
        model=h["student"]["model"],
        seed=h["anonymization"]["seed"],
        tau=h["coverage_tau"],
        steps=h["config"]["num_steps"],
        num_options=h["config"]["num_options"],
        difficulty=h["config"]["difficulty"],
        task=h["config"]["task"],
        dials=json.loads(json.dumps(h["config"]["dials"])),
    )
    assert logged == spec_identity(spec)
