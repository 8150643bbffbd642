"""The one connection layer: every process opens the database through here.

Readers get a read-only connection to the published snapshot; the writer takes the advisory
lock, opens its private live copy and publishes it on success (the files and why:
warehouse/store/snapshot.py). A `ducklake:` URL goes to warehouse/store/lake/connection.py instead.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from warehouse.core.errors import DataError, LockedError, UsageError
from warehouse.core.faults import fault_point
from warehouse.store import spare
from warehouse.store.backend import backend_for
from warehouse.store.connect import connect_file, first_line
from warehouse.store.snapshot import DbPaths, paths_for, publish_if_written, seed_live

if TYPE_CHECKING:
    import duckdb

# ---------------------------------------------------------------- writer side


def _writable_folder(db: Path) -> None:
    """The database's folder exists (made if need be) and this user may create files in it: the
    writer makes its lock, live copy and snapshot there."""
    folder = db.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(
            f"cannot create the database folder {folder}: {e.strerror or e}; "
            "fix its permissions or pass --db with a path in a folder you can write"
        ) from e
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DataError(
            f"the database folder {folder} is not writable (the writer creates its lock and new "
            "copy there); fix its permissions or pass --db with a path in a folder you can write"
        )


@contextlib.contextmanager
def writer_lock(paths: DbPaths, command: str) -> Iterator[None]:
    """Hold the advisory lock for the whole write; fail fast naming the holder."""
    paths.lock.parent.mkdir(parents=True, exist_ok=True)
    handle: IO[str] = open(paths.lock, "a+", encoding="utf-8")  # noqa: SIM115 - the lock file, never the DB
    try:
        if not _flock_soon(handle):
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


def writer_busy(paths: DbPaths) -> bool:
    """Another process holds the writer lock now. The DuckDB-free no-op check (ingest/nochange.py)
    asks, so that ingest, like every writing command, names a writer at work (exit 5) rather than
    answer for a database being written. The probe holds the lock for microseconds; writers retry
    (`_flock_soon`), so it never fails one."""
    try:
        handle = open(paths.lock, encoding="utf-8")  # noqa: SIM115 - closed below, releases the flock
    except OSError:
        return False  # no lock file: no writer has ever run here
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        handle.close()
    return False


def _flock_soon(handle: IO[str]) -> bool:
    """Take the lock, retrying for ~0.1 s: `writer_busy` probes it for microseconds, and that probe
    must not fail a writer that starts at the same moment."""
    for attempt in range(20):
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if attempt < 19:
                time.sleep(0.005)
    return False


def sweep_stale(paths: DbPaths) -> list[Path]:
    """Remove temp files left by killed writers (call with the writer lock held)."""
    removed = []
    patterns = (
        f".{paths.published.name}.tmp-*",
        f"{paths.marker.name}.tmp-*",
        f".{paths.published.name}.nochange.tmp-*",  # ingest/nochange.py's record being written
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


@contextlib.contextmanager
def open_writer(
    db: str | os.PathLike[str],
    command: str = "warehouse",
    *,
    repair: bool = False,
    on_published: Callable[[], None] | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The only way to write: lock, open the private file, and publish on success.

    `repair`: first record the code's checksums of changed migrations, if the database's objects
    prove to match (warehouse/store/repair.py); the lake repairs in `warehouse lake migrate`.
    `on_published` runs after a successful publish, the lock still held (so the snapshot
    published then is this writer's; ingest/nochange.py records what it holds)."""
    if backend_for(db).is_lake:  # DuckLake backend (warehouse/store/lake/connection.py): no publishing
        from warehouse.store.lake import connection as lake

        with lake.open_writer(str(db), command) as lake_con:
            yield lake_con
        return
    paths = paths_for(db)
    if paths.published.is_dir():
        raise UsageError(f"--db {paths.published} is a directory; give a file path such as runs/runs.duckdb")
    _writable_folder(paths.published)
    with writer_lock(paths, command), _disk_full_is_data_error(paths.published.parent):
        sweep_stale(paths)
        seed_live(paths)
        con = connect_file(paths.live, read_only=False)
        try:
            from warehouse.store.migrate import migrate

            migrate(con, repair=repair)
            yield con
            fault_point("writer:before_checkpoint")
            con.execute("CHECKPOINT")
            fault_point("writer:after_checkpoint")
        finally:
            con.close()
        publish_if_written(paths)
        if on_published is not None:
            on_published()


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
            f"disk full in {directory}: {first_line(e)}; free some space and rerun "
            "(readers keep the previous database)"
        ) from e


# ---------------------------------------------------------------- reader side


def open_reader(
    db: str | os.PathLike[str],
    *,
    locked_down: bool = False,
    check_schema: bool = True,
    retries: int = 20,
) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published snapshot (retries briefly on a lock)."""
    if backend_for(db).is_lake:  # DuckLake backend (warehouse/store/lake/connection.py)
        from warehouse.store.lake import connection as lake

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
        from warehouse.store.migrate import check_version

        try:
            check_version(con, str(path))
        except BaseException:
            con.close()
            raise
    return con
