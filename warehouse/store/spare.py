"""A spare copy of the published snapshot, made in the background right after each publish.

Every write starts from a private copy of the published snapshot (warehouse/store/snapshot.py).
Copying is cheap; making the copy durable is not: the first CHECKPOINT on a fresh copy waits for
its fsync. A one-line ingest took a median 2.2 s without a spare and 1.6 s with one at 76 MB, and
10.1 s vs 3.4 s at 1 GB (benchmarks/RESULTS.md, bench_spare.py). So the writer that publishes
starts a detached copier (this file, run as a script) and the next writer renames the finished
spare into place instead of copying.

    runs/.runs.duckdb.spare-<size>-<mtime_ns>-<inode>         a finished, fsynced copy of the
                                                              snapshot with that stamp
    runs/.runs.duckdb.spare-<size>-<mtime_ns>-<inode>.tmp-<pid>   a copy in progress

Safe without the writer lock because a published snapshot is never written again: the copier
copies from a descriptor it opened, checks that descriptor's stamp is the published one, and
names the result after it; a writer takes only the spare named after the stamp published now.
The cost is disk: one more copy of the database while idle (made only if it leaves at least the
database's size free). WAREHOUSE_SPARE_COPY=0 turns it off. Not started where the file system
clones files (warehouse/store/reflink.py): there the writer seeds with a clone instead.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

SPARE_ENV = "WAREHOUSE_SPARE_COPY"
MIN_FREE_BYTES = 64 * 2**20
_STALL_SECONDS = 10.0  # a live copier whose file has not changed for this long is not waited for
_CHUNK = 64 * 2**20  # bytes per copy call: the copy's mtime moves at least this often


def stamp(path: Path) -> str | None:
    """'size-mtime_ns-inode' of a file, or None if it does not exist."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return _stamp_of(st)


def _stamp_of(st: os.stat_result) -> str:
    return f"{st.st_size}-{st.st_mtime_ns}-{st.st_ino}"


def spare_path(published: Path, snapshot_stamp: str) -> Path:
    return published.with_name(f".{published.name}.spare-{snapshot_stamp}")


def current(published: Path) -> Path | None:
    """Where the spare of the snapshot published now is (or would be); None without a snapshot."""
    snapshot = stamp(published)
    return spare_path(published, snapshot) if snapshot is not None else None


def enabled() -> bool:
    return os.environ.get(SPARE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


# Copiers started by this process and maybe still running (kept so none is collected while it runs).
_COPIERS: list[subprocess.Popen[bytes]] = []


def start_copier(published: Path) -> None:
    """Start the detached copier for the snapshot published now (if enabled and it fits)."""
    if not enabled():
        return
    try:
        size = published.stat().st_size
        if shutil.disk_usage(published.parent).free < 2 * size + MIN_FREE_BYTES:
            return
        _COPIERS[:] = [p for p in _COPIERS if p.poll() is None]  # (reaps the finished ones)
        _COPIERS.append(
            subprocess.Popen(
                copier_command(published),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
    except OSError:
        return  # no spare: the next writer copies, as without this module


def copier_command(published: Path) -> list[str]:
    """This file run as a script by an isolated interpreter without site-packages: it needs only
    the standard library, and starts in ~30 ms of CPU instead of ~80 ms for `-m warehouse.store.spare`."""
    return [sys.executable, "-I", "-S", str(Path(__file__).resolve()), str(published)]


def take(published: Path, live: Path) -> bool:
    """Rename the spare of the current snapshot to `live` (writer lock held). True if done.

    A copier still writing it is waited for while its file grows: it is never slower to wait
    than to start the same copy again."""
    spare = current(published)
    if spare is None:
        return False
    while not spare.exists():
        if not _copier_progressing(spare):
            return False
    try:
        os.replace(spare, live)
    except FileNotFoundError:
        return False
    return True


def _copier_progressing(spare: Path, poll: float = 0.01) -> bool:
    """Wait `poll` seconds; True while a copy to `spare` is in progress and not stalled."""
    pending = [p for p in spare.parent.glob(glob.escape(spare.name) + ".tmp-*") if _alive(p)]
    if not pending:
        return False
    try:
        age = time.time() - max(p.stat().st_mtime for p in pending)
    except FileNotFoundError:
        return True  # renamed just now: look again
    if age > _STALL_SECONDS:
        return False
    time.sleep(poll)
    return True


def _alive(tmp: Path) -> bool:
    """Is the copier writing `tmp` (named `...tmp-<pid>`) still running?"""
    # Imported here: the copier runs this file as a stdlib-only script and never calls this.
    from warehouse.core.procs import pid_alive

    try:
        pid = int(tmp.name.rsplit(".tmp-", 1)[1])
    except ValueError:
        return False
    return pid_alive(pid)


def sweep(published: Path) -> list[Path]:
    """Remove spares of snapshots no longer published and copies whose copier died."""
    keep = current(published)
    removed = []
    for p in published.parent.glob(f".{glob.escape(published.name)}.spare-*"):
        stale = not _alive(p) if ".tmp-" in p.name else p != keep
        if stale:
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


# ---------------------------------------------------------------- the copier process


def copy_snapshot(published: Path) -> Path | None:
    """Copy the published snapshot to its spare name (fsynced). None if it changed meanwhile."""
    src = os.open(published, os.O_RDONLY)
    try:
        st = os.fstat(src)
        if stamp(published) != _stamp_of(st):
            return None  # replaced between open and fstat: this descriptor is not the snapshot
        target = spare_path(published, _stamp_of(st))
        tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
        dst = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            _copy_data(src, dst, st.st_size)
            os.fsync(dst)
        except BaseException:
            os.close(dst)
            tmp.unlink(missing_ok=True)
            raise
        os.close(dst)
    finally:
        os.close(src)
    if stamp(published) != _stamp_of(st):  # published again meanwhile: this copy is stale
        tmp.unlink(missing_ok=True)
        return None
    os.replace(tmp, target)
    return target


def _copy_data(src: int, dst: int, size: int) -> None:
    """Copy the data extents only (DuckDB's free blocks are often holes), then set the size."""
    pos = 0
    while pos < size:
        try:
            start = os.lseek(src, pos, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:
                break  # nothing but holes after pos
            start, end = pos, size  # no SEEK_DATA on this file system: copy everything
        else:
            end = os.lseek(src, start, os.SEEK_HOLE)
        _copy_range(src, dst, start, min(end, size))
        pos = end
    os.ftruncate(dst, size)


def _copy_range(src: int, dst: int, start: int, end: int) -> None:
    pos = start
    while pos < end:
        try:
            n = os.copy_file_range(src, dst, min(end - pos, _CHUNK), pos, pos)
        except OSError:
            n = _copy_plain(src, dst, pos, end)
        if n == 0:
            return
        if pos // _CHUNK != (pos + n) // _CHUNK:
            os.fdatasync(dst)  # flush as it goes: the last fsync stays short (see _STALL_SECONDS)
        pos += n


def _copy_plain(src: int, dst: int, pos: int, end: int) -> int:
    chunk = os.pread(src, min(end - pos, 2**20), pos)
    return os.pwrite(dst, chunk, pos) if chunk else 0


def main(argv: list[str]) -> int:
    with contextlib.suppress(OSError):  # yield the CPU to whatever the user runs next
        os.nice(10)
    with contextlib.suppress(OSError):  # a removed folder or a full disk: simply no spare
        copy_snapshot(Path(argv[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
