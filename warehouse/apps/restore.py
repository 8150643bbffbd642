"""`warehouse restore`: bring archived raw logs back, byte-identical, and never outside the target.

The Python on this machine lacks the June-2025 tarfile fixes (CVE-2025-4517 and
friends), so we never call extract()/extractall() and do not rely on the `data`
filter. Instead:
  * the whole archive is verified first (gzip to EOF, every member hashed against MANIFEST.json,
    whole-archive sha256 against the sidecar when present);
  * every member must be a plain regular file with a clean relative name (no absolute path, no
    `..`/`.`/empty component, no backslash or NUL); one bad member refuses the whole archive,
    before anything is written;
  * member bytes are streamed with extractfile() into paths we compute, walking directories with
    O_NOFOLLOW|O_DIRECTORY relative to the target's descriptor, creating files with
    O_CREAT|O_EXCL|O_NOFOLLOW under a temp name, checking the sha256, then renaming in place.
Existing files are never overwritten.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tarfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warehouse.apps.archive_io import CHUNK, MANIFEST_NAME, SAFE_TYPES, read_sidecar, verify_archive
from warehouse.core.errors import DataError, UsageError

NAME_MAX = 255
PATH_MAX = 1024


@dataclass(frozen=True)
class Restored:
    name: str
    path: Path
    size: int
    sha256: str


def member_problem(info: tarfile.TarInfo) -> str | None:
    """Why this member must not be restored, or None when it is a safe regular file."""
    if info.type not in SAFE_TYPES:
        kinds = {
            tarfile.SYMTYPE: "a symlink",
            tarfile.LNKTYPE: "a hardlink",
            tarfile.CHRTYPE: "a character device",
            tarfile.BLKTYPE: "a block device",
            tarfile.FIFOTYPE: "a fifo",
            tarfile.DIRTYPE: "a directory",
        }
        return f"is {kinds.get(info.type, 'not a regular file')}"
    return name_problem(info.name)


def name_problem(name: str) -> str | None:
    if not name or "\x00" in name or "\\" in name:
        return "has an empty name or a NUL/backslash in it"
    if name.startswith("/"):
        return "has an absolute path"
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return "has an empty, '.' or '..' path component"
    if len(name.encode()) > PATH_MAX or any(len(p.encode()) > NAME_MAX for p in parts):
        return "has an over-long path"
    return None


def _open_stream(path: Path) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo]]:
    try:
        with (
            open(path, "rb") as raw,
            gzip.GzipFile(fileobj=raw, mode="rb") as gz,
            tarfile.open(fileobj=gz, mode="r|") as tar,
        ):
            for info in tar:
                yield tar, info
    except DataError:
        raise
    except (OSError, EOFError, tarfile.TarError, zlib.error, ValueError) as e:
        raise DataError(f"{path} is corrupt: {type(e).__name__}: {e}") from e


def scan(path: Path) -> list[str]:
    """Member names after checking every member is safe; DataError naming the bad ones."""
    bad, names, seen = [], [], set()
    for _tar, info in _open_stream(path):
        problem = member_problem(info)
        if problem is None and info.name in seen:
            problem = "appears twice"
        if problem:
            bad.append(f"{info.name!r} {problem}")
        seen.add(info.name)
        names.append(info.name)
    if bad:
        raise DataError(
            f"{path}: refusing to restore from an unsafe archive; {len(bad)} member(s)"
            f" rejected: {'; '.join(bad[:5])}"
        )
    return names


@contextmanager
def _dir_fd(path: Path | str, parent: int | None = None) -> Iterator[int]:
    flags = os.O_RDONLY | os.O_DIRECTORY | (os.O_NOFOLLOW if parent is not None else 0)
    try:
        fd = os.open(path, flags, dir_fd=parent) if parent is not None else os.open(path, flags)
    except OSError as e:
        raise DataError(
            f"cannot enter {path!s} while restoring (a symlink or not a directory:"
            f" {e.strerror}); restore into an empty directory"
        ) from e
    try:
        yield fd
    finally:
        os.close(fd)


def _write_member(root: int, name: str, data: Any, entry: dict[str, Any], target: Path) -> Restored:
    *dirs, base = name.split("/")
    fds: list[int] = [root]
    try:
        for part in dirs:
            with suppress(FileExistsError):
                os.mkdir(part, 0o755, dir_fd=fds[-1])
            fds.append(os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fds[-1]))
        return _write_file(fds[-1], base, data, entry, target / name)
    except OSError as e:
        raise DataError(f"cannot restore {name}: {e.strerror or e}; restore into an empty directory") from e
    finally:
        for fd in fds[1:]:
            os.close(fd)


def _write_file(dfd: int, base: str, data: Any, entry: dict[str, Any], final: Path) -> Restored:
    tmp = f".{base}.restore-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=dfd)
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := data.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        if (digest.hexdigest(), size) != (entry["sha256"], entry["size"]):
            raise DataError(f"{final}: restored bytes do not match the manifest; archive is corrupt")
        if _exists(dfd, base):
            raise DataError(f"{final} already exists; restore into an empty directory")
        mtime = entry.get("mtime_ns")
        if isinstance(mtime, int):
            os.utime(tmp, ns=(mtime, mtime), dir_fd=dfd, follow_symlinks=False)
        os.rename(tmp, base, src_dir_fd=dfd, dst_dir_fd=dfd)
        os.fsync(dfd)
    finally:
        if _exists(dfd, tmp):
            os.unlink(tmp, dir_fd=dfd)
    return Restored(entry["name"], final, size, digest.hexdigest())


def _exists(dfd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _select(manifest: dict[str, Any], wanted: Sequence[str], archive: Path) -> dict[str, dict[str, Any]]:
    entries = {e["name"]: e for e in manifest["members"]}
    prefix = f"archive://{archive.name}/"
    names = [w.removeprefix(prefix) for w in wanted] or list(entries)
    unknown = [n for n in names if n not in entries]
    if unknown:
        raise UsageError(
            f"{archive} has no member {unknown[0]!r}; list them with"
            f" 'tar tzf {archive}' or see {archive.name.removesuffix('.tar.gz')}.manifest.json"
        )
    return {n: entries[n] for n in names}


def _precheck(target: Path, names: Sequence[str]) -> None:
    clashes = [n for n in names if os.path.lexists(target / n)]
    if clashes:
        raise DataError(
            f"{target / clashes[0]} already exists ({len(clashes)} clash(es));"
            " restore into an empty directory or move those files away"
        )


def restore(archive: Path, members: Sequence[str], target: Path) -> list[Restored]:
    """Restore `members` (all when empty) of `archive` under `target`, byte-identical."""
    if not archive.is_file():
        raise UsageError(f"no archive at {archive}: give a runs/_archive/logs_*.tar.gz file")
    scan(archive)  # refuse unsafe archives before anything is written
    sidecar = read_sidecar(archive)
    manifest = verify_archive(archive, sidecar["archive_sha256"] if sidecar else None)
    chosen = _select(manifest, members, archive)
    target.mkdir(parents=True, exist_ok=True)
    _precheck(target, list(chosen))
    done: list[Restored] = []
    with _dir_fd(target) as root:
        for tar, info in _open_stream(archive):
            if info.name == MANIFEST_NAME or info.name not in chosen:
                continue
            if member_problem(info):  # the archive changed since scan(): refuse
                raise DataError(f"{archive}: member {info.name!r} {member_problem(info)}")
            data = tar.extractfile(info)
            if data is None:
                raise DataError(f"{archive}: member {info.name!r} has no data")
            done.append(_write_member(root, info.name, data, chosen[info.name], target))
    return done
