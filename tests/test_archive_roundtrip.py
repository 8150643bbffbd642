"""archive -> verify -> delete -> restore is byte-identical; eligibility rules; provenance in the DB."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

import pytest
from archive_support import files_rows, ingest, make_runs, setup, sha, tree

from warehouse.apps.archive import LINKED, plan_archive, run_archive
from warehouse.apps.archive_io import MANIFEST_NAME, read_sidecar, verify_archive
from warehouse.apps.restore import restore
from warehouse.core.errors import DataError, UsageError


def test_round_trip_byte_identical(tmp_path: Path) -> None:
    runs, db, files = setup(tmp_path, n=4, steps=5, pad=2000)
    result = run_archive(db, runs, runs / "_archive", 10)
    assert result.archive is not None and result.archive.parent == runs / "_archive"
    # originals gone, archive + sidecar present, MANIFEST.json is the first member
    assert not any((runs / rel).exists() for rel in files)
    with tarfile.open(result.archive) as tar:
        names = tar.getnames()
    assert names == [MANIFEST_NAME, *sorted(files)]
    meta = read_sidecar(result.archive)
    assert meta is not None and meta["archive_sha256"] == result.archive_sha256
    verify_archive(result.archive, result.archive_sha256, meta["members"])
    # rows keep their provenance
    rows = files_rows(db)
    for rel in files:
        assert rows[rel] == (f"archive://{result.archive.name}/{rel}", "archived")
    # restore everything: byte-identical, mtime kept
    done = restore(result.archive, [], tmp_path / "back")
    assert {d.name for d in done} == set(files)
    for rel, data in files.items():
        back = tmp_path / "back" / rel
        assert back.read_bytes() == data and sha(back.read_bytes()) == sha(data)
        entry = next(m for m in meta["members"] if m["name"] == rel)
        assert back.stat().st_mtime_ns == entry["mtime_ns"]


def test_reingest_does_not_duplicate_and_restore_one_member(tmp_path: Path) -> None:
    runs, db, files = setup(tmp_path, n=2)
    import duckdb

    def counts() -> tuple[int, int]:
        con = duckdb.connect(str(db), read_only=True)
        try:
            row = con.execute(
                "SELECT (SELECT count(*) FROM records), (SELECT count(*) FROM files)"
            ).fetchone()
            assert row is not None
            return int(row[0]), int(row[1])
        finally:
            con.close()

    before = counts()
    result = run_archive(db, runs, runs / "_archive", 10)
    assert result.archive is not None
    ingest(runs, db)  # discovery skips _archive/ and keeps archived rows
    assert counts() == before
    con = duckdb.connect(str(db), read_only=True)
    try:
        catalog = con.execute("SELECT path, archived FROM catalog").fetchall()
    finally:
        con.close()
    assert catalog and all(p.startswith(f"archive://{result.archive.name}/") and a for p, a in catalog)
    rel = sorted(files)[0]
    uri = f"archive://{result.archive.name}/{rel}"
    done = restore(result.archive, [uri], tmp_path / "one")
    assert [d.name for d in done] == [rel]
    assert tree(tmp_path / "one") == {**{p: "dir" for p in _parents(rel)}, rel: files[rel]}
    with pytest.raises(UsageError):
        restore(result.archive, ["no/such.jsonl"], tmp_path / "none")
    with pytest.raises(DataError, match="already exists"):
        restore(result.archive, [rel], tmp_path / "one")  # never overwrites


def _parents(rel: str) -> list[str]:
    parts = rel.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def test_only_eligible_files(tmp_path: Path) -> None:
    runs, db, files = setup(tmp_path, n=4)
    names = sorted(files)
    (runs / "exp/torn.jsonl").write_bytes(b'{"run_header": true, "run_id": "t"}\n{"step": 0, "ev')
    old = (runs / names[0]).stat().st_mtime_ns
    os.utime(runs / "exp/torn.jsonl", ns=(old, old))
    ingest(runs, db)
    with open(runs / names[1], "ab") as handle:  # appended after ingest (not re-ingested yet)
        handle.write(b'{"step": 99}\n')
    os.utime(runs / names[2])  # touched now: too recent
    (runs / "exp/new.jsonl").write_bytes(b'{"run_header": true}\n')  # never ingested
    plan = plan_archive(db, runs, 10)
    decisions = {d.name: d for d in plan.decisions}
    assert [m.name for m in plan.members] == [names[0], names[3]]
    assert decisions["exp/torn.jsonl"].reason.startswith("not fully ingested")
    assert decisions[names[1]].reason.startswith("changed since ingest")
    assert decisions[names[2]].reason in ("too recent", "changed since ingest: run 'warehouse ingest'")
    assert "exp/new.jsonl" not in decisions
    # dry run lists, deletes nothing, writes nothing
    dry = run_archive(db, runs, runs / "_archive", 10, dry_run=True)
    assert dry.archive is None and not (runs / "_archive").exists()
    assert all((runs / n).exists() for n in names)
    # with min age 0 and a fresh ingest the touched file becomes eligible too
    ingest(runs, db)
    assert {m.name for m in plan_archive(db, runs, 0).members} == {*names, "exp/new.jsonl"}


def test_files_read_through_a_link_stay_where_they_are(tmp_path: Path) -> None:
    """A folder linked into runs/ is ingested, but archiving never deletes the link's target."""
    runs, db, files = setup(tmp_path, n=2)
    outside = tmp_path / "old-evals"
    kept = make_runs(outside, n=2)
    (runs / "old").symlink_to(outside)
    ingest(runs, db)
    assert {f"old/{rel}" for rel in kept} <= set(files_rows(db))
    result = run_archive(db, runs, runs / "_archive", 0)
    decisions = {d.name: d.reason for d in result.plan.decisions}
    assert {m.name for m in result.plan.members} == set(files)
    assert all(decisions[f"old/{rel}"] == LINKED for rel in kept)
    assert all((outside / rel).read_bytes() == data for rel, data in kept.items())


def test_cli_archive_and_restore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from warehouse.cli import main

    runs, db, files = setup(tmp_path, n=2)
    args = ["--db", str(db), "--runs-dir", str(runs), "--min-age-minutes", "5"]
    main(["archive", *args, "--dry-run"])
    out = capsys.readouterr().out.splitlines()
    assert sorted(line.split("\t")[1] for line in out) == sorted(files)
    assert all(line.startswith("would-archive\t") for line in out)
    main(["archive", *args, "--json"])
    report = json.loads(capsys.readouterr().out)
    archive = Path(report["archive"])
    assert archive.is_file() and len(report["files"]) == 2
    main(["restore", str(archive), "--to", str(tmp_path / "r")])
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 2
    for rel, data in files.items():
        assert (tmp_path / "r" / rel).read_bytes() == data
    with pytest.raises(SystemExit) as exit_info:
        main(["restore", str(tmp_path / "nope.tar.gz"), "--to", str(tmp_path / "x")])
    assert exit_info.value.code == 2


def test_restore_into_runs_dir_relinks(tmp_path: Path) -> None:
    """Restored where they came from, ingest re-links the files: no duplicate rows."""
    import duckdb

    runs, db, files = setup(tmp_path, n=2)
    result = run_archive(db, runs, runs / "_archive", 10)
    assert result.archive is not None
    restore(result.archive, [], runs)
    ingest(runs, db)
    rows = files_rows(db)
    assert {rel: status for rel, (_p, status) in rows.items()} == dict.fromkeys(files, "present")
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM files").fetchone() == (len(files),)
    finally:
        con.close()
