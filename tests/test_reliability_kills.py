"""SIGKILL at random points of ingest (inside COMMIT and CHECKPOINT too), export and archive.

The kill comes from a separate `sleep; kill -KILL` process started at a fault point with a random
delay drawn from that step's measured duration (tests/reliability_child.py), so it lands inside
whatever DuckDB is doing then; the child's trace says where it landed. After every kill: the
published snapshot is the old or the new state (checked by Python and by the pinned duckdb
shell), the next run completes, and the result equals a clean build (row hashes).
test_ingest_crash.py covers the named points.
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import tarfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from archive_support import make_runs, sha
from ingest_support import content_hash, rows
from reliability_support import child, cli, shell_count, state, write_corpus

from warehouse.apps.archive_io import read_sidecar, verify_archive
from warehouse.store.snapshot import paths_for


@dataclass
class Killed:
    returncode: int
    trace: list[str]

    def landed(self) -> str:
        """Where the SIGKILL landed, from the last trace points the child reached."""
        names = [line.rsplit(" ", 1)[0] for line in self.trace]
        if self.returncode != -signal.SIGKILL:
            return "finished first"
        for begin, end, label in (
            ("ingest:before_commit", "ingest:after_commit", "inside COMMIT"),
            ("writer:before_checkpoint", "writer:after_checkpoint", "inside CHECKPOINT"),
            ("writer:after_checkpoint", "publish:after_rename", "inside publish"),
        ):
            if begin in names and end not in names:
                return label
        return f"after {names[-1]}" if names else "before start"


def _trace(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _run_child(args: list[str], trace: Path, kill: str | None = None) -> Killed:
    trace.unlink(missing_ok=True)
    env = {"RELIABILITY_TRACE": str(trace), **({"RELIABILITY_KILL": kill} if kill else {})}
    proc = child(*args, env=env)
    _out, err = proc.communicate(timeout=600)
    assert proc.returncode in (0, -signal.SIGKILL), err
    return Killed(proc.returncode, _trace(trace))


def _durations(trace: list[str]) -> dict[str, float]:
    at = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in trace}
    return {
        "total": at["end"] - at["start"],
        "commit": at["ingest:after_commit"] - at["ingest:before_commit"],
        "checkpoint": at["writer:after_checkpoint"] - at["writer:before_checkpoint"],
        "publish": at["publish:after_rename"] - at["writer:after_checkpoint"],
    }


def _copiers_of(folder: Path) -> list[int]:
    """PIDs of detached spare copiers (warehouse/store/spare.py) working on a file in `folder`."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"spare.py") for a in args) and any(str(folder).encode() in a for a in args):
            found.append(int(cmdline.parent.name))
    return found


def _restore(template: Path, target: Path) -> None:
    # A spare copier started by the previous (killed or finished) ingest may still be copying
    # into `target`: let it finish before the folder is replaced, or it renames its copy into
    # the new folder under a stamp the recreated file can match (inode numbers are reused).
    deadline = time.monotonic() + 30
    while _copiers_of(target) and time.monotonic() < deadline:
        time.sleep(0.05)
    if target.exists():
        shutil.rmtree(target)
    subprocess.run(["cp", "-a", str(template), str(target)], check=True)


# ---------------------------------------------------------------- ingest


@dataclass
class IngestCase:
    runs: Path
    db_dir: Path
    old_template: Path
    old: tuple[object, ...]
    new: tuple[object, ...]
    old_records: int
    new_records: int
    durations: dict[str, float]
    trace: Path


@pytest.fixture(scope="module")
def ingest_case(tmp_path_factory: pytest.TempPathFactory) -> IngestCase:
    base = tmp_path_factory.mktemp("kills")
    runs, db_dir = base / "runs", base / "db"
    db = db_dir / "runs.duckdb"
    write_corpus(runs, 6, 30, "old")
    assert cli("ingest", str(runs), "--db", str(db), "-q").returncode == 0
    old_template = base / "old-db"
    _restore(db_dir, old_template)
    old = content_hash(db)
    old_records = rows(db, "SELECT count(*) FROM records")[0][0]
    write_corpus(runs, 40, 120, "new", pad=600)  # ~4 MB more: COMMIT and CHECKPOINT take a while
    clean = _run_child(["ingest", str(runs), str(db)], base / "trace")
    assert clean.returncode == 0
    new = content_hash(db)
    new_records = rows(db, "SELECT count(*) FROM records")[0][0]
    return IngestCase(
        runs,
        db_dir,
        old_template,
        old,
        new,
        old_records,
        new_records,
        _durations(clean.trace),
        base / "trace",
    )


def _kill_plan(
    case: IngestCase, n_commit: int, n_checkpoint: int, n_any: int, n_publish: int, seed: int
) -> list[str]:
    rng, d = random.Random(seed), case.durations
    plan = [f"ingest:before_commit:{rng.uniform(0, d['commit']):.4f}" for _ in range(n_commit)]
    plan += [f"writer:before_checkpoint:{rng.uniform(0, d['checkpoint']):.4f}" for _ in range(n_checkpoint)]
    plan += [f"start:{rng.uniform(0, d['total']):.4f}" for _ in range(n_any)]
    plan += [f"writer:after_checkpoint:{rng.uniform(0, d['publish']):.4f}" for _ in range(n_publish)]
    return plan


def _ingest_kills(case: IngestCase, plan: list[str]) -> Counter[str]:
    db = case.db_dir / "runs.duckdb"
    landed: Counter[str] = Counter()
    for kill in plan:
        _restore(case.old_template, case.db_dir)
        killed = _run_child(["ingest", str(case.runs), str(db)], case.trace, kill)
        landed[killed.landed()] += 1
        published = state(db)
        assert published in (case.old, case.new), f"kill {kill} ({killed.landed()}): a mixed state"
        # the pinned shell agrees on the published snapshot, and recovers the live file + WAL too
        published_records = rows(db, "SELECT count(*) FROM records")[0][0]
        assert shell_count(db, "select count(*) from records") == str(published_records)
        if paths_for(db).live.exists():
            copy = case.db_dir.parent / "live-copy"
            _restore(case.db_dir, copy)
            recovered = int(shell_count(copy / paths_for(db).live.name, "select count(*) from records"))
            assert recovered in (case.old_records, case.new_records)
        done = cli("ingest", str(case.runs), "--db", str(db), "-q")
        assert done.returncode == 0, f"rerun after kill {kill}: {done.stderr}"
        assert content_hash(db) == case.new, (
            f"kill {kill} ({killed.landed()}): rerun differs from a clean build"
        )
        assert rows(db, "SELECT count(*) FROM ingest_log") == [(2,)]  # never loaded twice
    return landed


def _report(what: str, landed: Counter[str], durations: dict[str, float] | None = None) -> None:
    timing = ""
    if durations:
        timing = " (" + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in durations.items()) + ")"
    print(f"\n{what}: {sum(landed.values())} SIGKILLs survived{timing}: {dict(landed)}")


def test_sigkill_inside_commit_checkpoint_and_anywhere(ingest_case: IngestCase) -> None:
    landed = _ingest_kills(ingest_case, _kill_plan(ingest_case, 2, 2, 1, 1, seed=20260101))
    _report("ingest", landed, ingest_case.durations)
    assert sum(landed.values()) == 6


@pytest.mark.heavy
def test_sigkill_at_thirty_random_points_of_ingest(ingest_case: IngestCase) -> None:
    landed = _ingest_kills(ingest_case, _kill_plan(ingest_case, 10, 8, 9, 3, seed=7))
    _report("ingest (heavy)", landed, ingest_case.durations)
    assert landed["inside COMMIT"] >= 1 and landed["inside CHECKPOINT"] >= 1


# ---------------------------------------------------------------- export


def _digest(path: Path) -> list[tuple[object, ...]]:
    """The rows of an exported file, sorted, doubles rounded to 6 decimals then 12 significant
    digits (parallel sums differ in the last bits from run to run, and a difference that is 0 in
    exact arithmetic comes out as +-1e-17, and as +-3e-9 once a square root takes it: a variance
    of 1e-17). Reading fails if the file is partial."""
    con = duckdb.connect()
    try:
        reader = "read_parquet" if path.suffix == ".parquet" else "read_csv"
        got = con.execute(f"SELECT * FROM {reader}(?)", [str(path)]).fetchall()
    finally:
        con.close()
    norm = [tuple(float(f"{round(v, 6):.12g}") if isinstance(v, float) else v for v in row) for row in got]
    return sorted(norm, key=repr)


def _export_kills(tmp_path: Path, n: int, seed: int) -> Counter[str]:
    runs, db = tmp_path / "runs", tmp_path / "runs" / "runs.duckdb"
    write_corpus(runs, 8, 60, "ex")
    assert cli("ingest", str(runs), "--db", str(db), "-q").returncode == 0
    clean_dir, out = tmp_path / "clean", tmp_path / "out"
    clean = _run_child(["export", str(db), str(clean_dir)], tmp_path / "trace")
    clean_files = sorted(p.name for p in clean_dir.iterdir())
    want = {name: _digest(clean_dir / name) for name in clean_files}
    at = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in clean.trace}
    rng, landed = random.Random(seed), Counter[str]()
    for i in range(n):
        if out.exists():
            shutil.rmtree(out)
        out.mkdir()
        if i % 2:  # half the time an older export is already there: it must survive intact
            for name in clean_files:
                (out / name).write_bytes(b"OLD")
        killed = _run_child(
            ["export", str(db), str(out)],
            tmp_path / "trace",
            f"start:{rng.uniform(0, at['end'] - at['start']):.4f}",
        )
        landed["killed" if killed.returncode else "finished first"] += 1
        for path in out.iterdir():
            if path.name.startswith("."):
                continue  # a killed writer's temp file: never under a final name
            assert path.name in want
            assert path.read_bytes() == b"OLD" or _digest(path) == want[path.name], path
        assert _run_child(["export", str(db), str(out)], tmp_path / "trace").returncode == 0
        assert sorted(p.name for p in out.iterdir()) == clean_files  # temp files swept
        assert {name: _digest(out / name) for name in clean_files} == want
    return landed


def test_sigkill_at_random_points_of_export(tmp_path: Path) -> None:
    landed = _export_kills(tmp_path, n=3, seed=3)
    _report("export", landed)


@pytest.mark.heavy
def test_sigkill_at_twelve_random_points_of_export(tmp_path: Path) -> None:
    landed = _export_kills(tmp_path, n=12, seed=5)
    _report("export (heavy)", landed)


# ---------------------------------------------------------------- archive


def _archived_copies(archive_dir: Path) -> dict[str, set[str]]:
    held: dict[str, set[str]] = {}
    for archive in sorted(archive_dir.glob("logs_*.tar.gz")) if archive_dir.is_dir() else []:
        meta = read_sidecar(archive)
        assert meta is not None, f"{archive} has no sidecar"
        for m in verify_archive(archive, meta["archive_sha256"])["members"]:
            held.setdefault(m["name"], set()).add(m["sha256"])
    return held


def _archive_kills(tmp_path: Path, n: int, seed: int) -> Counter[str]:
    base = tmp_path / "case"
    runs, db = base / "runs", base / "db" / "runs.duckdb"
    files = make_runs(runs, n=8, steps=40, pad=2000)
    assert cli("ingest", str(runs), "--db", str(db), "-q").returncode == 0
    records = content_hash(db)
    template = tmp_path / "template"
    _restore(base, template)
    clean = _run_child(["archive", str(db), str(runs)], tmp_path / "trace")
    at = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in clean.trace}
    rng, landed = random.Random(seed), Counter[str]()
    for _ in range(n):
        _restore(template, base)
        killed = _run_child(
            ["archive", str(db), str(runs)],
            tmp_path / "trace",
            f"start:{rng.uniform(0, at['end'] - at['start']):.4f}",
        )
        names = [line.rsplit(" ", 1)[0] for line in killed.trace]
        landed["finished first" if killed.returncode == 0 else f"after {names[-1]}"] += 1
        held = _archived_copies(runs / "_archive")
        for rel, data in files.items():  # nothing lost: on disk intact, or in a verified archive
            on_disk = runs / rel
            assert (on_disk.exists() and on_disk.read_bytes() == data) or sha(data) in held.get(rel, set())
        assert content_hash(db) == records
        again = _run_child(["archive", str(db), str(runs)], tmp_path / "trace")
        assert again.returncode == 0
        assert content_hash(db) == records  # the rows never change, whatever happened
        status = rows(db, "SELECT relpath, path, status FROM files")
        assert {r[0] for r in status} == set(files) and {r[2] for r in status} == {"archived"}
        for rel, path, _status in status:
            name, member = path.removeprefix("archive://").split("/", 1)
            with tarfile.open(runs / "_archive" / name) as tar:
                handle = tar.extractfile(member)
                assert handle is not None and handle.read() == files[rel]
        assert not [p for p in (runs / "_archive").iterdir() if ".tmp-" in p.name]
        assert not any((runs / rel).exists() for rel in files)
    return landed


def test_sigkill_at_random_points_of_archive(tmp_path: Path) -> None:
    landed = _archive_kills(tmp_path, n=4, seed=11)
    _report("archive", landed)


@pytest.mark.heavy
def test_sigkill_at_twenty_random_points_of_archive(tmp_path: Path) -> None:
    landed = _archive_kills(tmp_path, n=20, seed=13)
    _report("archive (heavy)", landed)
