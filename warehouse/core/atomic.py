"""Atomic file outputs: write under a temp name in the same directory, fsync, rename, fsync dir.

A reader (or a crash) sees either the previous file or the complete new one, never a half file
under the final name (a naive open('wb') killed mid-write leaves an empty file).
Temp names are `.<final>.tmp-<pid>`; `sweep_tmp` removes those whose writer is dead.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from warehouse.core.procs import pid_alive

_TMP = re.compile(r"^\.(?P<final>.+)\.tmp-(?P<pid>\d+)$")


def tmp_path(final: Path) -> Path:
    """The temp name a writer of `final` uses (same directory, so rename is atomic)."""
    return final.with_name(f".{final.name}.tmp-{os.getpid()}")


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    """fsync a regular file (never used on DuckDB files: see warehouse.store.snapshot)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            fsync_file(Path(dirpath) / name)
        fsync_dir(Path(dirpath))


def sweep_tmp(directory: Path) -> list[Path]:
    """Remove temp files/dirs left in `directory` by writers that were killed."""
    removed: list[Path] = []
    if not directory.is_dir():
        return removed
    for entry in directory.iterdir():
        match = _TMP.match(entry.name)
        if not match or pid_alive(int(match.group("pid"))):
            continue  # not ours, or its writer is still running (this process included)
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def publish_file(tmp: Path, final: Path) -> None:
    """fsync `tmp`, rename it over `final`, fsync the directory."""
    fsync_file(tmp)
    os.replace(tmp, final)
    fsync_dir(final.parent)


def publish_dir(tmp: Path, final: Path) -> None:
    """Replace directory `final` by `tmp` (two renames; never a half tree under `final`)."""
    fsync_tree(tmp)
    old = final.with_name(f".{final.name}.old.tmp-{os.getpid()}")
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    fsync_dir(final.parent)
    if old.exists():
        shutil.rmtree(old) if old.is_dir() else old.unlink()


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temp path to write; on success it replaces `final`, on error it is removed."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path(final)
    try:
        yield tmp
        if tmp.is_dir():
            publish_dir(tmp, final)
        else:
            publish_file(tmp, final)
    finally:
        if tmp.is_dir() and not tmp.is_symlink():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)


def atomic_write_bytes(final: Path, data: bytes) -> None:
    with atomic_path(final) as tmp, open(tmp, "wb") as handle:
        handle.write(data)


def atomic_write_text(final: Path, text: str) -> None:
    atomic_write_bytes(final, text.encode("utf-8"))
