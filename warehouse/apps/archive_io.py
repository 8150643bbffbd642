"""Archive files on disk: build a tar.gz with MANIFEST.json first, and verify one end to end.

Verification does all of the following, because `tarfile` alone
neither checks the gzip CRC nor complains when it stops at a corrupt header:
  1. the whole-archive sha256 equals the value recorded at creation;
  2. the gzip stream is read to EOF (CRC32, ISIZE, trailing garbage);
  3. the member list equals the manifest exactly, every member is a regular file whose sha256
     and size match, and the manifest matches what the caller expected (the DB's view).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from warehouse.core.atomic import atomic_path
from warehouse.core.errors import DataError

# A named fault point (warehouse.core.faults.fault_point), passed in by the caller; None: no faults.
FaultHook = Callable[[str], None] | None

MANIFEST_NAME = "MANIFEST.json"
FORMAT = "runs-warehouse-archive"
CHUNK = 1 << 20
SAFE_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE)


@dataclass(frozen=True)
class MemberSpec:
    """One original file going into an archive, as hashed just before archiving."""

    name: str  # member name = path relative to the runs directory
    source: Path
    size: int
    sha256: str
    mtime_ns: int
    file_id: int | None = None

    def manifest_entry(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "size": self.size,
            "sha256": self.sha256,
            "mtime_ns": self.mtime_ns,
            "file_id": self.file_id,
            "original_path": str(self.source),
        }


@dataclass(frozen=True)
class Built:
    path: Path
    sha256: str
    size: int
    manifest: dict[str, Any]

    @property
    def members(self) -> list[dict[str, Any]]:
        return list(self.manifest["members"])


class HashingReader:
    """A read-only file wrapper that hashes and counts every byte read through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.hash = hashlib.sha256()
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.hash.update(data)
        self.count += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        raise io.UnsupportedOperation("a hashing stream cannot seek")

    def drain(self) -> None:
        while self.read(CHUNK):
            pass


class HashingWriter(io.RawIOBase):
    """A write-only file wrapper that hashes and counts every byte written through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self.raw = raw
        self.hash = hashlib.sha256()
        self.count = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.raw.write(chunk)
        self.hash.update(chunk)
        self.count += len(chunk)
        return len(chunk)

    def flush(self) -> None:
        self.raw.flush()


def sidecar_path(archive: Path) -> Path:
    """runs/_archive/logs_X.tar.gz -> runs/_archive/logs_X.manifest.json"""
    name = archive.name.removesuffix(".tar.gz")
    return archive.with_name(f"{name}.manifest.json")


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")


def _tarinfo(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.type = size, mtime, 0o644, tarfile.REGTYPE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _add_member(tar: tarfile.TarFile, spec: MemberSpec) -> None:
    with open(spec.source, "rb") as handle:
        reader = HashingReader(handle)
        tar.addfile(_tarinfo(spec.name, spec.size, spec.mtime_ns / 1e9), reader)
    if reader.count != spec.size or reader.hash.hexdigest() != spec.sha256:
        raise DataError(
            f"{spec.source} changed while it was being archived; nothing was deleted,"
            " rerun 'warehouse archive' later"
        )


def _write_tar(out: HashingWriter, head: bytes, members: Sequence[MemberSpec], fault: FaultHook) -> None:
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=6, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        tar.addfile(_tarinfo(MANIFEST_NAME, len(head), 0), io.BytesIO(head))
        for i, spec in enumerate(members):
            _add_member(tar, spec)
            if i == 0 and fault:
                fault("archive:mid-write")


def build_archive(
    final: Path,
    members: Sequence[MemberSpec],
    manifest: dict[str, Any],
    fault: FaultHook = None,
    sidecar: bool = False,
) -> Built:
    """Write `final` atomically (temp + fsync + rename); return its sha256 and size.

    With `sidecar`, the sidecar manifest is published first, so an archive under its final
    name always has one (a kill in between leaves at most a stray sidecar, never a bare archive).
    """
    manifest = {**manifest, "format": FORMAT, "version": 1, "members": [m.manifest_entry() for m in members]}
    head = manifest_bytes(manifest)
    with atomic_path(final) as tmp:
        with open(tmp, "wb") as raw:
            out = HashingWriter(raw)
            _write_tar(out, head, members, fault)
        built = Built(final, out.hash.hexdigest(), out.count, manifest)
        if sidecar:
            write_sidecar(built)
        if fault:
            fault("archive:before-replace")
    return built


def hash_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


# ---------------------------------------------------------------- verification


def _member_problem(info: tarfile.TarInfo) -> str | None:
    if info.type not in SAFE_TYPES:
        return "not a regular file"
    return None


def _read_member(tar: tarfile.TarFile, info: tarfile.TarInfo) -> tuple[str, int, bytes | None]:
    handle = tar.extractfile(info)
    if handle is None:
        raise DataError(f"member {info.name!r} has no data")
    digest, size, keep = hashlib.sha256(), 0, bytearray()
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if info.name == MANIFEST_NAME:
            keep += chunk
    return digest.hexdigest(), size, bytes(keep) if info.name == MANIFEST_NAME else None


def _parse_manifest(data: bytes | None, where: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(data or b"")
    except (ValueError, UnicodeDecodeError) as e:
        raise DataError(f"{where}: MANIFEST.json is not valid JSON ({e})") from e
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DataError(f"{where} is not a runs-warehouse archive (no valid {MANIFEST_NAME})")
    members = manifest.get("members")
    if not isinstance(members, list) or not all(
        isinstance(m, dict)
        and isinstance(m.get("name"), str)
        and isinstance(m.get("size"), int)
        and isinstance(m.get("sha256"), str)
        for m in members
    ):
        raise DataError(f"{where}: {MANIFEST_NAME} has a malformed member list")
    return manifest


def _check_members(tar: tarfile.TarFile, where: Path) -> dict[str, Any]:
    first = tar.next()
    if first is None or first.name != MANIFEST_NAME or _member_problem(first):
        raise DataError(f"{where}: the first member is not {MANIFEST_NAME}; not a runs-warehouse archive")
    manifest = _parse_manifest(_read_member(tar, first)[2], where)
    expected = iter(manifest["members"])
    while (info := tar.next()) is not None:
        entry = next(expected, None)
        if entry is None or info.name != entry["name"]:
            raise DataError(
                f"{where}: unexpected member {info.name!r} (manifest says "
                f"{entry['name'] if entry else 'no more members'!r})"
            )
        if _member_problem(info):
            raise DataError(f"{where}: member {info.name!r} is {_member_problem(info)}")
        sha, size, _ = _read_member(tar, info)
        if (sha, size) != (entry["sha256"], entry["size"]):
            raise DataError(
                f"{where}: member {info.name!r} does not match its manifest entry"
                f" (sha256 {sha[:12]}…, {size} bytes)"
            )
    missing = [e["name"] for e in expected]
    if missing:
        raise DataError(
            f"{where}: {len(missing)} manifest member(s) missing from the archive,"
            f" first {missing[0]!r} (truncated or corrupt)"
        )
    return manifest


def verify_archive(
    path: Path, expected_sha256: str | None, expected_members: Sequence[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Fully re-read `path`; raise DataError on any mismatch. Returns the internal manifest."""
    try:
        with open(path, "rb") as raw:
            reader = HashingReader(raw)
            with gzip.GzipFile(fileobj=reader, mode="rb") as gz:
                with tarfile.open(fileobj=gz, mode="r|") as tar:
                    manifest = _check_members(tar, path)
                while gz.read(CHUNK):  # to EOF: checks CRC32, ISIZE, trailing garbage
                    pass
            reader.drain()
    except DataError:
        raise
    except (OSError, EOFError, tarfile.TarError, zlib.error, ValueError) as e:
        raise DataError(f"{path} is corrupt: {type(e).__name__}: {e}") from e
    actual = reader.hash.hexdigest()
    if expected_sha256 is not None and actual != expected_sha256:
        raise DataError(
            f"{path}: whole-archive sha256 {actual[:12]}… differs from the recorded "
            f"{expected_sha256[:12]}… (corrupted or replaced)"
        )
    if expected_members is not None:
        _compare_manifest(path, manifest["members"], expected_members)
    return manifest


def _compare_manifest(path: Path, got: Sequence[dict[str, Any]], want: Sequence[dict[str, Any]]) -> None:
    def key(entries: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [(e["name"], e["size"], e["sha256"]) for e in entries]

    if key(got) != key(want):
        raise DataError(
            f"{path}: MANIFEST.json does not list the files the database expects "
            f"({len(got)} vs {len(want)} members)"
        )


def write_sidecar(built: Built) -> Path:
    """The manifest next to the archive, plus the whole-archive sha256 (atomic)."""
    sidecar = sidecar_path(built.path)
    body = {
        **built.manifest,
        "archive": built.path.name,
        "archive_sha256": built.sha256,
        "archive_size": built.size,
    }
    with atomic_path(sidecar) as tmp:
        tmp.write_bytes(manifest_bytes(body))
    return sidecar


def read_sidecar(archive: Path) -> dict[str, Any] | None:
    sidecar = sidecar_path(archive)
    if not sidecar.is_file():
        return None
    try:
        data = json.loads(sidecar.read_bytes())
    except (ValueError, UnicodeDecodeError) as e:
        raise DataError(f"{sidecar} is not valid JSON ({e}); restore it or delete it") from e
    if not isinstance(data, dict) or not isinstance(data.get("archive_sha256"), str):
        raise DataError(f"{sidecar} is not an archive manifest")
    return data
