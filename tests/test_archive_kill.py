"""SIGKILL at every step of `warehouse archive` loses nothing, and a rerun finishes the job.

The kill is real (the child SIGKILLs itself at a named point, WAREHOUSE_KILL_AT=<point>), so the
test is deterministic and has no timing assumptions. After each kill, every original is either
in place byte for byte, or inside an archive under its final name that verifies against its
sidecar; after a clean rerun every row points at an archive that holds its bytes.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import duckdb
import pytest
from archive_support import ingest, setup, sha
from reliability_support import killed_at

from warehouse.apps.archive import run_archive
from warehouse.apps.archive_io import read_sidecar, verify_archive

POINTS = [
    "archive:mid-write",
    "archive:before-replace",
    "archive:before-delete",
    "archive:mid-delete",
    "archive:before-update",
]

CHILD = (
    "import sys; from pathlib import Path; from warehouse.apps.archive import run_archive; "
    "run_archive(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[2]) / '_archive', 10)"
)


def _archived_copies(archive_dir: Path) -> dict[str, set[str]]:
    """member name -> sha256s held by verified, final-named archives."""
    held: dict[str, set[str]] = {}
    for archive in sorted(archive_dir.glob("logs_*.tar.gz")):
        meta = read_sidecar(archive)
        assert meta is not None, f"{archive} has no sidecar"
        manifest = verify_archive(archive, meta["archive_sha256"])
        for m in manifest["members"]:
            held.setdefault(m["name"], set()).add(m["sha256"])
    return held


def _records(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM records").fetchone()
        return int(row[0]) if row else -1
    finally:
        con.close()


@pytest.mark.parametrize("point", POINTS)
def test_kill_during_archive_loses_nothing(tmp_path: Path, point: str) -> None:
    runs, db, files = setup(tmp_path, n=4, steps=4, pad=200)
    records = _records(db)
    child = killed_at(point, CHILD, str(db), str(runs))
    assert child.returncode == -9, child.stderr
    # invariant right after the kill
    held = _archived_copies(runs / "_archive")
    for rel, data in files.items():
        on_disk = runs / rel
        assert (on_disk.exists() and on_disk.read_bytes() == data) or sha(data) in held.get(rel, set())
    assert not [p for p in (runs / "_archive").glob("logs_*") if ".tmp-" in p.name]
    # an ingest in between must not duplicate anything, and the rerun finishes the job
    ingest(runs, db)
    assert _records(db) == records
    run_archive(db, runs, runs / "_archive", 10)
    assert _records(db) == records
    assert not list((runs / "_archive").glob(".*"))  # stale temp files swept
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT relpath, path, status FROM files").fetchall()
    finally:
        con.close()
    assert {r[0] for r in rows} == set(files) and {r[2] for r in rows} == {"archived"}
    for rel, path, _status in rows:
        name, member = path.removeprefix("archive://").split("/", 1)
        assert member == rel
        with tarfile.open(runs / "_archive" / name) as tar:
            handle = tar.extractfile(member)
            assert handle is not None and handle.read() == files[rel]
    assert not any((runs / rel).exists() for rel in files)
