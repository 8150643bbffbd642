"""Every corruption of an archive or an original is caught before any original is deleted."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from archive_support import files_rows, setup

from warehouse.apps.archive import build, commit, plan_archive
from warehouse.apps.archive_io import Built, build_archive, verify_archive
from warehouse.core.errors import DataError


def _flip_middle(p: Path) -> None:
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF
    p.write_bytes(bytes(data))


def _flip_at(offset: int) -> Callable[[Path], None]:
    def corrupt(p: Path) -> None:
        data = bytearray(p.read_bytes())
        data[offset] ^= 0x01
        p.write_bytes(bytes(data))

    return corrupt


def _append(extra: bytes) -> Callable[[Path], None]:
    def corrupt(p: Path) -> None:
        with open(p, "ab") as handle:
            handle.write(extra)

    return corrupt


def _truncate(cut: Callable[[int], int]) -> Callable[[Path], None]:
    def corrupt(p: Path) -> None:
        data = p.read_bytes()
        p.write_bytes(data[: cut(len(data))])

    return corrupt


CORRUPTIONS: dict[str, Callable[[Path], None]] = {
    "byte_flipped_in_middle": _flip_middle,
    "gzip_crc32_flipped": _flip_at(-8),
    "gzip_isize_flipped": _flip_at(-4),
    "trailing_garbage": _append(b"garbage"),
    "trailing_1KiB_zeros": _append(b"\0" * 1024),
    "last_8_bytes_truncated": _truncate(lambda n: n - 8),
    "truncated_1000_bytes": _truncate(lambda n: n - 1000),
    "truncated_to_half": _truncate(lambda n: n // 2),
}


def _prepare(tmp_path: Path) -> tuple[Path, Path, dict[str, bytes], Built]:
    # enough incompressible-ish data that the archive is > 1000 bytes
    runs, db, files = setup(tmp_path, n=4, steps=20, pad=300)
    plan = plan_archive(db, runs, 10)
    assert len(plan.members) == 4
    built = build(plan, runs / "_archive")
    assert built.size > 2000
    return runs, db, files, built


def _assert_nothing_deleted(runs: Path, db: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        assert (runs / rel).read_bytes() == data
    assert {status for _path, status in files_rows(db).values()} == {"present"}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_corrupt_archive_blocks_deletion(tmp_path: Path, name: str) -> None:
    runs, db, files, built = _prepare(tmp_path)
    CORRUPTIONS[name](built.path)
    with pytest.raises(DataError):
        verify_archive(built.path, built.sha256, built.members)
    with pytest.raises(DataError):
        commit(db, built)
    _assert_nothing_deleted(runs, db, files)
    assert not built.path.exists()  # the bad archive is dropped; a rerun starts clean


def test_archive_rebuilt_without_one_file(tmp_path: Path) -> None:
    """Internally consistent, but not what the database expects (and not the recorded sha)."""
    runs, db, files, built = _prepare(tmp_path)
    plan = plan_archive(db, runs, 10)
    rebuilt = build_archive(built.path, plan.members[1:], {"created_at": "x"})
    verify_archive(rebuilt.path, rebuilt.sha256)  # fine on its own
    with pytest.raises(DataError, match="sha256"):
        commit(db, built)
    _assert_nothing_deleted(runs, db, files)
    # even if the recorded whole-archive sha256 were the rebuilt one, the manifest check catches it
    rebuilt = build_archive(built.path, plan.members[1:], {"created_at": "x"})
    forged = dataclasses.replace(built, sha256=rebuilt.sha256)
    with pytest.raises(DataError, match=r"MANIFEST\.json does not list"):
        commit(db, forged)
    _assert_nothing_deleted(runs, db, files)


def test_original_appended_after_archiving(tmp_path: Path) -> None:
    runs, db, files, built = _prepare(tmp_path)
    victim = runs / sorted(files)[2]
    with open(victim, "ab") as handle:
        handle.write(b'{"step": 100}\n')
    with pytest.raises(DataError):
        commit(db, built)
    assert victim.read_bytes() == files[sorted(files)[2]] + b'{"step": 100}\n'
    for rel in sorted(files)[:2] + sorted(files)[3:]:
        assert (runs / rel).read_bytes() == files[rel]
    assert {status for _path, status in files_rows(db).values()} == {"present"}


def test_original_rewritten_same_size_and_mtime(tmp_path: Path) -> None:
    """Same size and mtime but different bytes: only the re-hash can tell."""
    import os

    runs, db, files, built = _prepare(tmp_path)
    victim = runs / sorted(files)[0]
    st = victim.stat()
    data = bytearray(victim.read_bytes())
    data[10] = ord("X") if data[10] != ord("X") else ord("Y")
    victim.write_bytes(bytes(data))
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(DataError, match="modified after it was archived"):
        commit(db, built)
    _assert_nothing_deleted(runs, db, {**files, sorted(files)[0]: bytes(data)})


def test_concurrent_archive_runs_archive_once(tmp_path: Path) -> None:
    """Two archive runs planned on the same files: the second commit finds the rows changed."""
    runs, db, _files, first = _prepare(tmp_path)
    second = build(plan_archive(db, runs, 10), runs / "_archive")
    commit(db, first)
    with pytest.raises(DataError, match="row changed"):
        commit(db, second)
    assert not second.path.exists() and first.path.exists()
    assert {status for _path, status in files_rows(db).values()} == {"archived"}
