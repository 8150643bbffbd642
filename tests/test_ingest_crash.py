"""SIGKILL during ingest: readers see the old or the new state, never a mix; the next ingest
completes and equals a clean build."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ingest_support import content_hash, rows

FAULT_POINTS = [
    "ingest:before_commit",
    "ingest:after_commit",
    "writer:before_checkpoint",
    "writer:after_checkpoint",
    "publish:before_rename",
    "publish:after_rename",
]


def make_corpus(root: Path, files: int, steps: int, tag: str) -> None:
    for f in range(files):
        d = root / f"exp{f % 4}"
        d.mkdir(parents=True, exist_ok=True)
        run = f"{tag}-{f}"
        lines = [json.dumps({"run_header": True, "run_id": run, "ts": 1, "config": {"num_steps": steps}})]
        lines += [
            json.dumps(
                {
                    "run_id": run,
                    "step": i,
                    "task": {
                        "type": "mcq",
                        "stem": f"{tag} {i}",
                        "options": ["a", "b", "c"],
                        "correct_index": i % 3,
                    },
                    "evaluation": {"correct": i % 2 == 0},
                    "presented_stem": "x" * 400,
                }
            )
            for i in range(steps)
        ]
        (d / f"deepinfra_{tag}{f}_sc1_b6.jsonl").write_text("\n".join(lines) + "\n")


def ingest_cmd(runs: Path, db: Path) -> list[str]:
    return [sys.executable, "-m", "warehouse", "ingest", str(runs), "--db", str(db), "-q"]


def run_ingest(runs: Path, db: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ingest_cmd(runs, db), capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=300
    )


def published_state(db: Path) -> tuple[object, ...] | None:
    return content_hash(db) if db.exists() else None


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[object, ...], tuple[object, ...]]:
    """Runs dir with a first half (already ingested in the 'old' state) and a second half."""
    base = tmp_path_factory.mktemp("crash")
    runs = base / "runs"
    make_corpus(runs / "first", 30, 40, "a")
    old_db = base / "old" / "runs.duckdb"
    assert run_ingest(runs, old_db).returncode == 0
    make_corpus(runs / "second", 30, 40, "b")
    new_db = base / "new" / "runs.duckdb"
    assert run_ingest(runs, new_db).returncode == 0
    return runs, content_hash(old_db), content_hash(new_db)


def _assert_old_or_new(db: Path, old: tuple[object, ...], new: tuple[object, ...]) -> str:
    state = published_state(db)
    assert state in (old, new), "published snapshot is neither the old nor the new state"
    return "old" if state == old else "new"


@pytest.mark.parametrize("point", FAULT_POINTS)
def test_kill_at_named_points(point: str, corpus: tuple[Path, tuple, tuple], tmp_path: Path) -> None:
    runs, _old, new = corpus
    db = tmp_path / "db" / "runs.duckdb"
    killed = run_ingest(runs, db, {"WAREHOUSE_KILL_AT": point})
    assert killed.returncode == -signal.SIGKILL
    state = published_state(db)
    assert state in (None, new)  # nothing published yet, or the whole ingest
    done = run_ingest(runs, db)
    assert done.returncode == 0, done.stderr
    assert content_hash(db) == new
    assert rows(db, "SELECT count(*) FROM ingest_log") == [(1,)]


def _random_kills(corpus: tuple[Path, tuple, tuple], tmp_path: Path, n: int, seed: int) -> list[str]:
    runs, old, new = corpus
    rng = random.Random(seed)
    outcomes = []
    for i in range(n):
        work = tmp_path / f"k{i}"
        work.mkdir()
        db = work / "runs.duckdb"
        first = work / "runs"
        first.mkdir()
        subprocess.run(["cp", "-r", str(runs / "first"), str(first)], check=True)
        assert run_ingest(first, db).returncode == 0  # old state
        subprocess.run(["cp", "-r", str(runs / "second"), str(first)], check=True)
        proc = subprocess.Popen(ingest_cmd(first, db), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        outcomes.append(
            _assert_old_or_new(db, old, new) if proc.returncode == -signal.SIGKILL else "finished"
        )
        assert run_ingest(first, db).returncode == 0
        assert content_hash(db) == new
    return outcomes


def test_kill_at_random_points(corpus: tuple[Path, tuple, tuple], tmp_path: Path) -> None:
    outcomes = _random_kills(corpus, tmp_path, n=4, seed=7)
    assert len(outcomes) == 4


@pytest.mark.heavy
def test_kill_at_twenty_random_points(corpus: tuple[Path, tuple, tuple], tmp_path: Path) -> None:
    outcomes = _random_kills(corpus, tmp_path, n=20, seed=11)
    print("kill outcomes:", {k: outcomes.count(k) for k in set(outcomes)})
