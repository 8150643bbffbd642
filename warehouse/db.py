"""The one connection layer: every process opens the database through here.

Readers get a read-only connection to the published snapshot; the writer takes the advisory
lock, opens its private live copy and publishes it on success (the files and why:
warehouse/snapshot.py). A `ducklake:` URL goes to warehouse/lake.py instead.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from warehouse import spare
from warehouse.errors import DataError, LockedError, UsageError
from warehouse.faults import fault_point
from warehouse.snapshot import DbPaths, paths_for, publish_if_written, seed_live

if TYPE_CHECKING:
    import duckdb

STORAGE_VERSION = "v1.5.0"
WRITE_ROW_GROUP_SIZE = 16384


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
        publish_if_written(paths)


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
