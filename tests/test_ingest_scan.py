"""The directory scan (ingest/scan.py): what it finds, leaves out and reports, and links
followed once per target."""

from __future__ import annotations

import os
from pathlib import Path

from ingest import ingest_runs
from ingest.scan import scan
from tests.ingest_support import rows, scalar

LINE = b'{"run_id": "r1", "step": 0, "evaluation": {"correct": true}}\n'


def _tree(root: Path) -> None:
    """Log files at the top and in 40 top-level folders, and everything a scan must leave out
    or report."""
    root.mkdir()
    (root / "top.jsonl").write_bytes(LINE)
    (root / "notes.txt").write_text("not a log")
    for i in range(40):
        folder = root / f"sweep{i:03d}" / "exp"
        folder.mkdir(parents=True)
        (folder / f"m{i}_sc1.jsonl").write_bytes(LINE * (i + 1))
        (folder / "copy.jsonl.recovered").write_bytes(LINE)
    (root / "sweep001" / "exp" / "old.jsonl.gz").write_bytes(b"\x1f\x8b")
    for skipped_dir in ("_archive", "_aggregated", "_catalog", ".hidden"):
        (root / skipped_dir).mkdir()
        (root / skipped_dir / "x.jsonl").write_bytes(LINE)
    (root / ".dotfile.jsonl").write_bytes(LINE)
    (root / "runs.duckdb").write_bytes(b"")
    (root / "runs.duckdb.wal").write_bytes(b"")
    os.mkfifo(root / "pipe.jsonl")


def test_the_scan_finds_log_files_and_reports_the_rest(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    _tree(root)
    found, skipped, _problems = scan(str(root))
    assert len(found) == 1 + 40 * 2 + 1  # the pipe, dot-files, skipped folders, DB: left out
    assert skipped == ["notes.txt"]
    first = root / "sweep000" / "exp" / "copy.jsonl.recovered"
    assert found[0][:3] == (str(first), "sweep000/exp/copy.jsonl.recovered", "recovered")
    assert [r[1] for r in found] == sorted(r[1] for r in found)
    gz = root / "sweep001" / "exp" / "old.jsonl.gz"
    assert (str(gz), "sweep001/exp/old.jsonl.gz", "gz") in [r[:3] for r in found]
    by_rel = {r[1]: r for r in found}
    last = root / "sweep039" / "exp" / "m39_sc1.jsonl"
    st = last.stat()
    assert by_rel["sweep039/exp/m39_sc1.jsonl"][3:] == (40 * len(LINE), st.st_mtime_ns, st.st_ino)


def test_links_are_followed_once_per_target(tmp_path: Path) -> None:
    root, outside = tmp_path / "runs", tmp_path / "old-evals"
    (outside / "logs" / "deep").mkdir(parents=True)
    (outside / "logs" / "a.jsonl").write_bytes(LINE)
    (outside / "logs" / "deep" / "b.jsonl").write_bytes(LINE)
    (outside / "logs" / "deep" / "back").symlink_to(outside / "logs")  # a loop inside the target
    (outside / "single.jsonl").write_bytes(LINE)
    (outside / "readme.md").write_text("x")
    root.mkdir()
    (root / "own").mkdir()
    (root / "own" / "c.jsonl").write_bytes(LINE)
    (root / "old").symlink_to(outside / "logs")
    (root / "zz-again").symlink_to(outside / "logs")  # same target, later in path order
    (root / "loop").symlink_to(root)
    (root / "inside").symlink_to(root / "own")
    (root / "broken").symlink_to(tmp_path / "nowhere")
    (root / "one.jsonl").symlink_to(outside / "single.jsonl")
    (root / "own-again.jsonl").symlink_to(root / "own" / "c.jsonl")
    (root / "doc.jsonl.txt").symlink_to(outside / "readme.md")

    found, skipped, _problems = scan(str(root))
    assert [r[1] for r in found] == ["old/a.jsonl", "old/deep/b.jsonl", "one.jsonl", "own/c.jsonl"]
    assert found[0][0] == str(root / "old" / "a.jsonl")  # read through the link
    assert found[0][5] == (outside / "logs" / "a.jsonl").stat().st_ino
    assert skipped == [
        "broken",
        "doc.jsonl.txt",
        "inside",
        "loop",
        "old/deep/back",
        "own-again.jsonl",
        "zz-again",
    ]


def test_a_link_to_an_ancestor_adds_only_what_was_not_scanned(tmp_path: Path) -> None:
    """runs/up leads to the folder holding runs/ itself and two earlier links' targets."""
    root, outside = tmp_path / "runs", tmp_path / "old-evals"
    (outside / "logs").mkdir(parents=True)
    (outside / "logs" / "a.jsonl").write_bytes(LINE)
    (outside / "single.jsonl").write_bytes(LINE)
    (outside / "other.jsonl").write_bytes(LINE)
    root.mkdir()
    (root / "c.jsonl").write_bytes(LINE)
    (root / "old").symlink_to(outside / "logs")
    (root / "one.jsonl").symlink_to(outside / "single.jsonl")
    (root / "up").symlink_to(tmp_path)
    found, skipped, _problems = scan(str(root))
    assert [r[1] for r in found] == ["c.jsonl", "old/a.jsonl", "one.jsonl", "up/old-evals/other.jsonl"]
    assert skipped == []


def test_a_linked_folder_ingests_and_grows(tmp_path: Path, db_path: Path) -> None:
    root, outside = tmp_path / "runs", tmp_path / "old-evals"
    outside.mkdir()
    log = outside / "openai_default_sc1_b6.jsonl"
    log.write_bytes(LINE * 3)
    root.mkdir()
    (root / "old").symlink_to(outside)
    first = ingest_runs(str(root), str(db_path))
    assert (first.files_new, first.lines_good) == (1, 3)
    assert rows(db_path, "SELECT relpath FROM files") == [("old/openai_default_sc1_b6.jsonl",)]
    assert ingest_runs(str(root), str(db_path)).load_id is None  # a no-op
    with log.open("ab") as fh:
        fh.write(LINE)
    grown = ingest_runs(str(root), str(db_path))
    assert (grown.files_grown, grown.lines_good, grown.bytes_read) == (1, 1, len(LINE))
    assert scalar(db_path, "SELECT count(*) FROM records") == 4
