"""Seeding the writer's live file by copy-on-write clone (warehouse/store/reflink.py) where the file
system offers clones, and the spare copier (warehouse/store/spare.py) where it does not.

The database folder is the test's tmp_path, or WAREHOUSE_TEST_REFLINK_DIR when set (a folder on
btrfs or XFS with reflink=1, to run the clone side on a machine whose tmp is ext4)."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from ingest import ingest_runs
from tests.ingest_support import scalar
from warehouse.store import reflink, spare

MIX = "exp/deepinfra_mistralai-Mixtral-8x7B-Instruct-v0.1_sc3_b8.jsonl"
STEP = '{"run_id": "run-b", "step": 2, "evaluation": {"correct": true}}\n'


def _folder(tmp_path: Path) -> Path:
    base = os.environ.get("WAREHOUSE_TEST_REFLINK_DIR")
    folder = Path(base) / f"t-{uuid.uuid4().hex[:8]}" if base else tmp_path / "db"
    folder.mkdir(parents=True)
    return folder


def test_a_clone_is_exact_or_refused_leaving_nothing(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    src, dst = folder / "a.duckdb", folder / "b.duckdb"
    src.write_bytes(os.urandom(300_000))
    cloned = reflink.clone(src, dst)
    assert reflink.supported(src) == cloned
    if cloned:
        assert dst.read_bytes() == src.read_bytes()
    expected = {"a.duckdb", "b.duckdb"} if cloned else {"a.duckdb"}
    assert {p.name for p in folder.iterdir()} == expected  # and the probe left nothing


def test_writes_clone_where_offered_and_keep_the_spare_elsewhere(fixture_runs: Path, tmp_path: Path) -> None:
    db = _folder(tmp_path) / "runs.duckdb"
    ingest_runs(str(fixture_runs), str(db))
    with open(fixture_runs / MIX, "a", encoding="utf-8") as fh:
        fh.write(STEP)
    summary = ingest_runs(str(fixture_runs), str(db))
    assert summary.lines_good == 1
    assert scalar(db, "SELECT count(*) FROM records WHERE run_key = 'run-b' AND step = 2") == 1
    made = spare.current(db)
    assert made is not None
    if reflink.supported(db):
        time.sleep(0.5)  # a copier, had one been started, would have made its temp file by now
        assert not list(db.parent.glob(f".{db.name}.spare-*"))  # clones: no copier, no second copy
    else:
        deadline = time.monotonic() + 30
        while not made.exists():  # without clones the copier makes a spare of the new snapshot
            assert time.monotonic() < deadline, f"no spare {made.name}"
            time.sleep(0.02)
    assert not list(db.parent.glob(f".{db.name}.tmp-*"))  # no probe or temp file left
