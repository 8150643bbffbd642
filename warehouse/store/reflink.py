"""Copy-on-write clones ("reflinks") of database files, where the file system offers them.

On btrfs, XFS (reflink=1, mkfs.xfs's default), bcachefs, ZFS 2.2+ and APFS-like file systems a
clone shares the source's extents: it takes milliseconds and no disk whatever the database's size,
and blocks are copied only as the writer changes them. There the writer seeds its live file with a
clone of the published snapshot and needs no spare copy (warehouse/store/spare.py). ext4 and tmpfs
have no clones; there the spare copier keeps paying the copy in the background.

Clones are made by `cp --reflink=always` in a subprocess: this process never opens a database file
itself, so DuckDB's POSIX lock on it is never dropped (warehouse/store/snapshot.py).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

# st_dev of a folder -> whether clones work there, probed once per process.
_SUPPORTED: dict[int, bool] = {}


def clone(src: Path, dst: Path) -> bool:
    """Clone `src` to `dst` (which must not exist). False, leaving no `dst`, where clones fail."""
    result = subprocess.run(
        ["cp", "--reflink=always", str(src), str(dst)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        dst.unlink(missing_ok=True)
        return False
    return True


def supported(published: Path) -> bool:
    """Does the file system holding the database `published` clone files? Probed once per process
    and device, with a one-byte file named like the writer's temp files (swept if a kill leaves it)."""
    try:
        device = published.parent.stat().st_dev
    except OSError:
        return False
    if device not in _SUPPORTED:
        _SUPPORTED[device] = _probe(published)
    return _SUPPORTED[device]


def _probe(published: Path) -> bool:
    src = published.with_name(f".{published.name}.tmp-{os.getpid()}.probe")
    dst = src.with_name(src.name + ".clone")
    try:
        src.write_bytes(b"\0")
        return clone(src, dst)
    except OSError:
        return False
    finally:
        src.unlink(missing_ok=True)
        dst.unlink(missing_ok=True)
