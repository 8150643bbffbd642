"""The one connection layer: every process opens the database through here.

Layout for `--db runs/runs.duckdb` (RELIABILITY-NOTES §1):
  runs/runs.duckdb          the *published* snapshot. Readers (shell, notebooks, CLI) open it
                            read-only; ingest replaces it by atomic rename, never writes it.
  runs/.runs.duckdb.live    the writer's private file; only the process holding the lock opens it.
  runs/.runs.duckdb.lock    flock() advisory lock naming the holder (pid, command).
  runs/.runs.duckdb.retired-<pid>  the snapshot just replaced, until a detached rm deletes it.
  runs/.runs.duckdb.spare-<stamp>  a copy of the snapshot made after publishing, so the next
                            write need not copy (warehouse/spare.py).

So readers never block ingest, ingest never breaks readers (an open reader keeps its old inode),
and each reader sees one consistent committed state. The writer never open()s a database file
itself: copies run in a subprocess (`cp`, the spare copier), so DuckDB's POSIX lock is never
dropped.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from warehouse import spare
from warehouse.errors import DataError, LockedError, UsageError
from warehouse.faults import fault_point

if TYPE_CHECKING:
    import duckdb

STORAGE_VERSION = "v1.5.0"
WRITE_ROW_GROUP_SIZE = 16384
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


def _duckdb() -> object:
    import duckdb

    return duckdb


def connect_file(path: Path, *, read_only: bool, locked_down: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file with the project's settings (storage v1.5, no network autoload)."""
    import duckdb

    config: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if locked_down:
        config["enable_external_access"] = False
        config["lock_configuration"] = True
    try:
        if read_only:
            return duckdb.connect(str(path), read_only=True, config=config)
        return _connect_writer(path, config)
    except duckdb.IOException as e:
        if "lock" in str(e).lower():
            raise LockedError(f"{path} is locked by another process: {_first_line(e)}") from e
        raise DataError(f"cannot open {path}: {_first_line(e)}") from e


def _connect_writer(
    path: Path, config: dict[str, str | bool | int | float | list[str]]
) -> duckdb.DuckDBPyConnection:
    """The file attached with small row groups: a bulk insert then fills row groups as it goes and
    DuckDB writes them straight to the file, instead of logging ~4x the compressed size to the
    WAL at COMMIT and rewriting it at CHECKPOINT (measured: 98 MB of WAL for 27 MB of data)."""
    import duckdb

    con = duckdb.connect(":memory:", config=config)
    quoted = str(path).replace("'", "''")
    con.execute(
        f"ATTACH '{quoted}' AS warehouse "
        f"(STORAGE_VERSION '{STORAGE_VERSION}', ROW_GROUP_SIZE {WRITE_ROW_GROUP_SIZE})"
    )
    con.execute("USE warehouse")
    # Strings (mostly `records.line`, each log line as logged) are stored with ZSTD. DuckDB's default
    # (DICT_FSST: analyse, train, encode every segment) made a 1 GB bulk ingest ~15% slower for a
    # bigger file (255 vs 247 MB); typed-column queries read the same (18 vs 20 ms). Numbers,
    # booleans and validity keep their usual methods.
    con.execute("SET force_compression = 'zstd'")
    return con


def _first_line(e: BaseException) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__


# ---------------------------------------------------------------- writer side


@contextlib.contextmanager
def writer_lock(paths: DbPaths, command: str) -> Iterator[None]:
    """Hold the advisory lock for the whole write; fail fast naming the holder."""
    paths.lock.parent.mkdir(parents=True, exist_ok=True)
    handle: IO[str] = open(paths.lock, "a+", encoding="utf-8")  # noqa: SIM115 - the lock file, never the DB
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise LockedError(
                f"{paths.published} is being written by {holder}; wait for it to finish"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} ({command})")
        handle.flush()
        yield
    finally:
        handle.close()  # releases the flock


def sweep_stale(paths: DbPaths) -> list[Path]:
    """Remove temp files left by killed writers (call with the writer lock held)."""
    removed = []
    patterns = (
        f".{paths.published.name}.tmp-*",
        f"{paths.marker.name}.tmp-*",
        f".{paths.published.name}.retired-*",
    )
    for pattern in patterns:
        for stale in paths.published.parent.glob(pattern):
            stale.unlink(missing_ok=True)
            removed.append(stale)
    removed += spare.sweep(paths.published)
    stale_wal = paths.published.with_name(paths.published.name + ".wal")
    if stale_wal.exists():  # someone opened the snapshot read-write: its WAL would poison opens
        stale_wal.unlink()
        removed.append(stale_wal)
    return removed


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


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def seed_live(paths: DbPaths) -> None:
    """Start the private file: the published snapshot's spare (warehouse/spare.py) or a copy of
    the snapshot, else the cached empty template of this code's schema (binding ~60 view
    statements takes seconds)."""
    if paths.live.exists():
        return
    source_stamp = spare.stamp(paths.published)
    if source_stamp is not None and spare.take(paths.published, paths.live):
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


def seeded_from(paths: DbPaths) -> str | None:
    """The stamp of the snapshot the live file was copied from, while it is still unchanged."""
    marker = _read_marker_lines(paths)
    if len(marker) < 2 or not paths.live.exists() or marker[0] != _live_stamp(paths):
        return None
    return marker[1]


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "runs-warehouse"


def template_database() -> Path | None:
    """An empty database with every migration applied, built once per schema and cached.

    Keyed by the migrations' text, the duckdb version and the storage version, so any change
    builds a new one. None (build in place) when the cache folder is not writable."""
    import hashlib

    import duckdb

    from warehouse.migrate import available, migrate

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
    _fsync_dir(paths.published.parent)
    paths.marker.unlink(missing_ok=True)
    if retired is not None:
        _remove_in_background(retired)
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


@contextlib.contextmanager
def open_writer(
    db: str | os.PathLike[str], command: str = "warehouse"
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The only way to write: lock, open the private file, and publish on success."""
    if str(db).startswith("ducklake:"):  # DuckLake backend (warehouse/lake.py): no publishing
        from warehouse import lake

        with lake.open_writer(str(db), command) as lake_con:
            yield lake_con
        return
    paths = paths_for(db)
    if paths.published.is_dir():
        raise UsageError(f"--db {paths.published} is a directory; give a file path such as runs/runs.duckdb")
    paths.published.parent.mkdir(parents=True, exist_ok=True)
    with writer_lock(paths, command), _disk_full_is_data_error(paths.published.parent):
        sweep_stale(paths)
        seed_live(paths)
        con = connect_file(paths.live, read_only=False)
        try:
            from warehouse.migrate import migrate

            migrate(con)
            yield con
            fault_point("writer:before_checkpoint")
            con.execute("CHECKPOINT")
            fault_point("writer:after_checkpoint")
        finally:
            con.close()
        # Publish unless live still equals the snapshot it was copied from (nothing written);
        # a writer killed between commit and publish leaves no matching marker, so the next
        # writer publishes.
        if not paths.published.exists() or _live_stamp(paths) != _read_marker(paths):
            publish(paths)


@contextlib.contextmanager
def _disk_full_is_data_error(directory: Path) -> Iterator[None]:
    """ENOSPC, from DuckDB (IOException, FatalException on checkpoint) or the OS, becomes one
    clear DataError. The published snapshot is untouched; committed work stays in the live file."""
    try:
        yield
    except Exception as e:
        if not (isinstance(e, OSError) and e.errno == errno.ENOSPC) and "No space left" not in str(e):
            raise
        raise DataError(
            f"disk full in {directory}: {_first_line(e)}; free some space and rerun "
            "(readers keep the previous database)"
        ) from e


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


# ---------------------------------------------------------------- reader side


def open_reader(
    db: str | os.PathLike[str],
    *,
    locked_down: bool = False,
    check_schema: bool = True,
    retries: int = 20,
) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published snapshot (retries briefly on a lock)."""
    if str(db).startswith("ducklake:"):  # DuckLake backend (warehouse/lake.py)
        from warehouse import lake

        return lake.open_reader(str(db), locked_down=locked_down, check_schema=check_schema)
    path = Path(db)
    if not path.exists():
        raise UsageError(f"no database at {path}: run 'warehouse ingest' first (or pass --db)")
    if path.is_dir():
        raise UsageError(f"--db {path} is a directory; give a file path such as runs/runs.duckdb")
    delay = 0.02
    for attempt in range(retries):
        try:
            con = connect_file(path, read_only=True, locked_down=locked_down)
            break
        except LockedError:
            if attempt == retries - 1:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
    if check_schema:
        from warehouse.migrate import check_version

        try:
            check_version(con, str(path))
        except BaseException:
            con.close()
            raise
    return con
