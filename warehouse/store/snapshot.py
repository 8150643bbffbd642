"""The published snapshot and the writer's private copy of it.

Layout for `--db runs/runs.duckdb`:
  runs/runs.duckdb          the *published* snapshot. Readers (shell, notebooks, CLI) open it
                            read-only; ingest replaces it by atomic rename, never writes it.
  runs/.runs.duckdb.live    the writer's private file; only the process holding the lock opens it.
  runs/.runs.duckdb.lock    flock() advisory lock naming the holder (pid, command).
  runs/.runs.duckdb.published  the marker: the live file's stamp right after seeding, and the
                            snapshot it copies (while live still matches, it holds nothing new).
  runs/.runs.duckdb.retired-<pid>  the snapshot just replaced, until a detached rm deletes it.
  runs/.runs.duckdb.spare-<stamp>  a copy of the snapshot made after publishing, so the next
                            write need not copy (warehouse/store/spare.py). Only where the file
                            system has no copy-on-write clones: where it has (btrfs, XFS), the
                            writer seeds live with a clone, whatever the size (reflink.py).

So readers never block ingest, ingest never breaks readers (an open reader keeps its old inode),
and each reader sees one consistent committed state. The writer never open()s a database file
itself: copies run in a subprocess (`cp`, the spare copier), so DuckDB's POSIX lock is never
dropped. Connections and the lock are warehouse/store/db.py's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from warehouse.core.atomic import fsync_dir
from warehouse.core.config import cache_dir
from warehouse.core.errors import DataError
from warehouse.core.faults import fault_point
from warehouse.store import reflink, spare

MIN_FREE_BYTES = 64 * 2**20


@dataclass(frozen=True)
class DbPaths:
    published: Path

    @property
    def live(self) -> Path:
        return self.published.with_name(f".{self.published.name}.live")

    @property
    def lock(self) -> Path:
        return self.published.with_name(f".{self.published.name}.lock")

    @property
    def marker(self) -> Path:
        """Stamp (size, mtime, inode) of the live file right after it was copied from the
        published snapshot: while it matches, live holds nothing the snapshot lacks."""
        return self.published.with_name(f".{self.published.name}.published")

    def tmp(self) -> Path:
        return self.published.with_name(f".{self.published.name}.tmp-{os.getpid()}")

    def retired(self) -> Path:
        """A second name for the snapshot being replaced, deleted after the publish."""
        return self.published.with_name(f".{self.published.name}.retired-{os.getpid()}")


def paths_for(db: str | os.PathLike[str]) -> DbPaths:
    return DbPaths(Path(db))


def check_free_space(directory: Path, needed: int) -> None:
    free = shutil.disk_usage(directory).free
    if free < needed + MIN_FREE_BYTES:
        raise DataError(
            f"not enough disk space in {directory}: {free // 2**20} MB free, "
            f"about {(needed + MIN_FREE_BYTES) // 2**20} MB needed; free some space and retry"
        )


def _copy_file(src: Path, dst: Path) -> None:
    """Copy in a subprocess, so this process never opens (and un-locks) a DuckDB file."""
    result = subprocess.run(["cp", "--sparse=always", str(src), str(dst)], capture_output=True, text=True)
    if result.returncode != 0:
        raise DataError(f"copying {src} to {dst} failed: {result.stderr.strip()}")


def _fsync_path(path: Path) -> None:
    subprocess.run(["sync", str(path)], check=False)


def seed_live(paths: DbPaths) -> None:
    """Start the private file: the published snapshot's spare (warehouse/store/spare.py) or a copy of
    the snapshot, else the cached empty template of this code's schema (binding ~60 view
    statements takes seconds)."""
    if paths.live.exists():
        return
    source_stamp = spare.stamp(paths.published)
    if source_stamp is not None and _take_or_clone(paths):
        _write_marker(paths, source_stamp)
        return
    source = paths.published if source_stamp is not None else template_database()
    if source is None:
        return
    check_free_space(paths.published.parent, source.stat().st_size)
    tmp = paths.tmp()
    _copy_file(source, tmp)
    os.replace(tmp, paths.live)
    if source_stamp is not None:  # live == published now: a session that changes nothing need not publish
        _write_marker(paths, source_stamp)


def _take_or_clone(paths: DbPaths) -> bool:
    """Seed live without copying: the snapshot's spare if one is made or being made, else a
    copy-on-write clone where the file system offers them (warehouse/store/reflink.py)."""
    if spare.take(paths.published, paths.live):
        return True
    if not reflink.supported(paths.published):
        return False
    tmp = paths.tmp()
    if not reflink.clone(paths.published, tmp):
        return False
    os.replace(tmp, paths.live)
    return True


def seeded_from(paths: DbPaths) -> str | None:
    """The stamp of the snapshot the live file was copied from, while it is still unchanged."""
    marker = _read_marker_lines(paths)
    if len(marker) < 2 or not paths.live.exists() or marker[0] != _live_stamp(paths):
        return None
    return marker[1]


def _cache_dir() -> Path:
    return cache_dir()


def template_database() -> Path | None:
    """An empty database with every migration applied, built once per schema and cached.

    Keyed by the migrations' text, the duckdb version and the storage version, so any change
    builds a new one. None (build in place) when the cache folder is not writable."""
    import hashlib

    import duckdb

    from warehouse.store.connect import STORAGE_VERSION, connect_file
    from warehouse.store.migrate import available, migrate

    key = hashlib.sha256()
    for m in available():
        key.update(m.sql.encode())
    key.update(f"{duckdb.__version__} {STORAGE_VERSION}".encode())
    target = _cache_dir() / f"template-{key.hexdigest()[:20]}.duckdb"
    if target.exists():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
        tmp.unlink(missing_ok=True)
        con = connect_file(tmp, read_only=False)
        try:
            migrate(con)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, target)
    except OSError:
        return None
    return target


def publish(paths: DbPaths) -> float:
    """Make the closed live file the published snapshot by atomic rename. Returns seconds.

    Readers that hold the old snapshot keep its inode; new readers see the new one. The next write
    starts from a copy of it (seed_live): the spare started here, made while nobody waits."""
    start = time.perf_counter()
    if paths.live.with_name(paths.live.name + ".wal").exists():
        raise DataError(f"{paths.live} still has a WAL after checkpoint; not publishing it")
    _fsync_path(paths.live)
    retired = _second_name(paths)
    fault_point("publish:before_rename")
    os.replace(paths.live, paths.published)
    fault_point("publish:after_rename")
    fsync_dir(paths.published.parent)
    paths.marker.unlink(missing_ok=True)
    if retired is not None:
        _remove_in_background(retired)
    if not reflink.supported(paths.published):  # with clones, the next writer clones instead
        spare.start_copier(paths.published)
    return time.perf_counter() - start


def _second_name(paths: DbPaths) -> Path | None:
    """Hard-link the snapshot about to be replaced, so the rename frees none of its blocks.

    On a file system mounted with `discard` (this project's machines), freeing blocks TRIMs them
    synchronously: replacing a 150 MB snapshot took 0.4-0.5 s, more than the rest of a one-line
    ingest. The second name is then deleted by a detached `rm`; a leftover is swept by the next
    writer. None (a plain replace) where hard links do not work."""
    if not paths.published.exists():
        return None
    retired = paths.retired()
    try:
        retired.unlink(missing_ok=True)
        os.link(paths.published, retired)
    except OSError:
        return None
    return retired


# Detached removers still running; kept so that no Popen is collected (and warns) while it runs.
_REMOVERS: list[subprocess.Popen[bytes]] = []


def _remove_in_background(path: Path) -> None:
    _REMOVERS[:] = [p for p in _REMOVERS if p.poll() is None]
    try:
        _REMOVERS.append(
            subprocess.Popen(
                ["rm", "-f", str(path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
    except OSError:
        path.unlink(missing_ok=True)


def _live_stamp(paths: DbPaths) -> str | None:
    return spare.stamp(paths.live)


def _write_marker(paths: DbPaths, source_stamp: str) -> None:
    """Line 1: the live file's stamp right after seeding; line 2: the snapshot it came from."""
    tmp = paths.marker.with_name(paths.marker.name + f".tmp-{os.getpid()}")
    tmp.write_text(f"{_live_stamp(paths)}\n{source_stamp}\n", encoding="utf-8")
    os.replace(tmp, paths.marker)


def _read_marker(paths: DbPaths) -> str | None:
    lines = _read_marker_lines(paths)
    return lines[0] if lines else None


def _read_marker_lines(paths: DbPaths) -> list[str]:
    try:
        return paths.marker.read_text(encoding="utf-8").split()
    except FileNotFoundError:
        return []


def publish_if_written(paths: DbPaths) -> None:
    """Publish the closed live file unless it still equals the snapshot it was copied from
    (nothing written). A writer killed between commit and publish leaves no matching marker,
    so the next writer publishes."""
    if not paths.published.exists() or _live_stamp(paths) != _read_marker(paths):
        publish(paths)
