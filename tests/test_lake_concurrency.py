"""Many writers, one lake: exactly-once ingest, killed writers, maintenance during ingest.

Writers are real processes (standing in for machines) started together; the truth is an
embedded ingest of the same logs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from lake_support import Lake, Services, assert_same, new_lake, require_services, snapshot

from warehouse.core.config import load_config

pytestmark = pytest.mark.lake
REPO = Path(__file__).resolve().parent.parent

WRITER = """
import json, sys, time
from pathlib import Path
from warehouse.core.config import load_config
from ingest.lake import ingest_lake
runs, url, config, go, only, batch = sys.argv[1:7]
while not Path(go).exists():
    time.sleep(0.01)
summary = ingest_lake(runs, url, config=load_config(config), wait_seconds=300,
                      only=None if only == "-" else json.loads(only), batch_files=int(batch))
print(json.dumps(summary.as_dict()), flush=True)
"""


@pytest.fixture(scope="session")
def svc() -> Services:
    return require_services()


def gen_corpus(out: Path, files: int, steps: int, seed: int, dirty: float = 0.2) -> Path:
    subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "gen_corpus.py"),
            str(out),
            "--files",
            str(files),
            "--steps",
            str(steps),
            "--seed",
            str(seed),
            "--jobs",
            "1",
            "--dirty-frac",
            str(dirty),
        ],
        check=True,
        capture_output=True,
    )
    return out


def log_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.jsonl*") if "_catalog" not in p.parts)


def reference(runs: Path, directory: Path) -> dict[str, list[Any]]:
    from ingest import ingest_runs

    db = directory / "reference.duckdb"
    ingest_runs(str(runs), str(db), config=load_config(None))
    return snapshot(str(db))


def start_writer(
    lake: Lake, runs: Path, go: Path, only: list[str] | None = None, batch: int = 4
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            WRITER,
            str(runs),
            lake.url,
            str(lake.config_path),
            str(go),
            "-" if only is None else json.dumps(only),
            str(batch),
        ],
        env=lake.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(procs: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, f"writer failed: {err[-3000:]}"
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def assert_exactly_once(lake: Lake, truth: dict[str, list[Any]]) -> None:
    """No duplicate file rows or lines, nothing lost, no claim left behind."""
    from warehouse.store.lake.claims import list_claims
    from warehouse.store.lake.connection import open_reader

    con = open_reader(lake.url, config=load_config(str(lake.config_path)))
    try:
        dup_files = con.execute("SELECT count(*) - count(DISTINCT path) FROM files").fetchone()
        dup_lines = con.execute(
            "SELECT count(*) - count(DISTINCT (file_id, line_no)) FROM records"
        ).fetchone()
        dup_bad = con.execute(
            "SELECT count(*) - count(DISTINCT (file_id, line_no)) FROM quarantine"
        ).fetchone()
    finally:
        con.close()
    assert dup_files == (0,) and dup_lines == (0,) and dup_bad == (0,)
    assert_same(truth, snapshot(lake.url, lake))
    assert list_claims(lake.conninfo) == []


def test_four_writers_over_overlapping_file_sets_load_every_file_once(svc: Services, tmp_path: Path) -> None:
    runs = gen_corpus(tmp_path / "runs", files=28, steps=10, seed=11)
    paths = [str(p) for p in log_files(runs)]
    lake = new_lake(svc, tmp_path / "lake", s3=False)
    go = tmp_path / "go"
    # every file is wanted by exactly two writers, each writer overlaps both neighbours
    subsets = [[p for i, p in enumerate(paths) if i % 4 in (w, (w + 1) % 4)] for w in range(4)]
    procs = [start_writer(lake, runs, go, only=subset, batch=3) for subset in subsets]
    go.touch()
    results = finish(procs)
    assert sum(r["files_new"] for r in results) == len(paths)
    truth = reference(runs, tmp_path)
    assert_exactly_once(lake, truth)
    # round two: logs grow (runs still writing) -> each growth loaded once, by whoever claims it
    grown = paths[::3]
    for path in grown:
        lines = Path(path).read_bytes().splitlines(keepends=True)
        with open(path, "ab") as fh:
            fh.writelines(line for line in lines[:3] if line.endswith(b"\n"))
    go2 = tmp_path / "go2"
    procs = [start_writer(lake, runs, go2, batch=3) for _ in range(4)]
    go2.touch()
    results = finish(procs)
    assert sum(r["files_grown"] for r in results) == len(grown)
    assert_exactly_once(lake, reference(runs, tmp_path / "again"))


def test_four_cli_ingests_of_one_runs_dir_into_an_s3_lake(svc: Services, tmp_path: Path) -> None:
    runs = gen_corpus(tmp_path / "runs", files=24, steps=8, seed=12)
    lake = new_lake(svc, tmp_path / "lake", s3=True)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "warehouse",
                "lake",
                "ingest",
                str(runs),
                "--db",
                lake.url,
                "--json",
                "-q",
            ],
            env=lake.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = finish(procs)
    assert sum(r["files_new"] for r in results) == len(log_files(runs))
    assert_exactly_once(lake, reference(runs, tmp_path))


def _claims_of(lake: Lake, pid: int) -> frozenset[str]:
    from warehouse.store.lake.claims import list_claims

    return frozenset(str(r["path"]) for r in list_claims(lake.conninfo) if f":{pid}:" in str(r["owner"]))


def test_a_killed_ingest_releases_its_claims_and_loses_nothing(svc: Services, tmp_path: Path) -> None:
    runs = gen_corpus(tmp_path / "runs", files=12, steps=150, seed=13, dirty=0.0)
    lake = new_lake(svc, tmp_path / "lake", s3=False)
    go = tmp_path / "go"
    go.touch()
    victim = start_writer(lake, runs, go, batch=2)
    seen: list[frozenset[str]] = []
    deadline = time.monotonic() + 300
    try:  # kill it while it holds its second batch (the first one is committed by then)
        while len(seen) < 2 and victim.poll() is None and time.monotonic() < deadline:
            held = _claims_of(lake, victim.pid)
            if held and held not in seen:
                seen.append(held)
            time.sleep(0.02)
        assert len(seen) == 2, "the writer finished before it could be killed mid-ingest"
        os.kill(victim.pid, signal.SIGKILL)
    finally:
        victim.kill()
        victim.communicate()
    assert _claims_of(lake, victim.pid) == seen[-1]  # rows remain, but their owner is dead
    from warehouse.store.lake.claims import list_claims

    assert not any(r["live"] for r in list_claims(lake.conninfo) if str(r["path"]) in seen[-1])
    survivor = finish([start_writer(lake, runs, go, batch=4)])[0]
    assert survivor["files_busy"] == 0 and survivor["files_new"] >= len(seen[-1])
    assert_exactly_once(lake, reference(runs, tmp_path))


def test_maintenance_while_ingesting(svc: Services, tmp_path: Path) -> None:
    from datetime import timedelta

    from warehouse.store.lake.maint import MaintainReport, maintain

    runs = gen_corpus(tmp_path / "runs", files=24, steps=10, seed=14)
    lake = new_lake(svc, tmp_path / "lake", s3=False)
    config = load_config(str(lake.config_path))
    go = tmp_path / "go"
    procs = [start_writer(lake, runs, go, batch=1) for _ in range(2)]
    go.touch()
    reports: list[MaintainReport] = []
    while any(p.poll() is None for p in procs) or not reports:
        reports.append(
            maintain(
                lake.url,
                config=config,
                expire_older_than=timedelta(0),
                cleanup_older_than=timedelta(minutes=5),
            )
        )
    finish(procs)
    final = maintain(lake.url, config=config, expire_older_than=timedelta(0), cleanup_older_than=timedelta(0))
    assert final.data_files_after <= final.data_files_before
    assert sum(r.rows_flushed + r.files_merged + r.snapshots_expired for r in [*reports, final]) > 0
    assert_exactly_once(lake, reference(runs, tmp_path))
