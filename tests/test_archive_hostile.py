"""A hostile archive writes nothing outside the restore target.

This interpreter lacks the June-2025 tarfile fixes: the CVE-2025-4517-style chain below escapes
`extractall(filter='data')` here (checked by hand), so restore must not rely on the filter.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from archive_support import setup, tree

from warehouse.apps.archive import run_archive
from warehouse.apps.archive_io import FORMAT, MANIFEST_NAME
from warehouse.apps.restore import name_problem, restore
from warehouse.core.errors import DataError

Member = tuple[tarfile.TarInfo, bytes | None]


def _reg(name: str, data: bytes, mode: int = 0o644) -> Member:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    return info, data


def _special(name: str, kind: bytes, link: str = "") -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3
    if kind == tarfile.DIRTYPE:
        info.mode = 0o755
    return info, None


def _write(path: Path, members: list[Member]) -> Path:
    """A tar.gz that looks like ours: MANIFEST.json first, listing the regular members."""
    listed = [
        {"name": i.name, "size": len(d), "sha256": hashlib.sha256(d).hexdigest(), "mtime_ns": 0}
        for i, d in members
        if d is not None
    ]
    head = json.dumps({"format": FORMAT, "version": 1, "members": listed}).encode()
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(_reg(MANIFEST_NAME, head)[0], io.BytesIO(head))
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def cve_2025_4517_chain() -> list[Member]:
    """16 nested 247-char directories reached through one-letter symlinks, so that resolving
    a long link beyond them exceeds PATH_MAX: non-strict realpath then normalises '..'
    lexically and the filter believes `escape` points inside the target."""
    comp, steps = "d" * 247, "abcdefghijklmnop"
    members: list[Member] = []
    for i, s in enumerate(steps):
        base = "/".join(steps[:i])
        members.append(_special(f"{base}/{comp}".lstrip("/"), tarfile.DIRTYPE))
        members.append(_special(f"{base}/{s}".lstrip("/"), tarfile.SYMTYPE, comp))
    short, long_link = "/".join(steps), "l" * 254
    members.append(_special(f"{short}/{long_link}", tarfile.SYMTYPE, "../" * len(steps)))
    members.append(_special("escape", tarfile.SYMTYPE, f"{short}/{long_link}/../outside"))
    members.append(_reg("escape/newfile", b"PWNED"))
    members.append(_special("hl", tarfile.LNKTYPE, "escape/victim.txt"))
    members.append(_reg("hl", b"OWNED"))
    return members


def _cases(outside: Path) -> dict[str, Callable[[], list[Member]]]:
    return {
        "traversal": lambda: [_reg("../outside/victim.txt", b"OWNED")],
        "traversal_deep": lambda: [_reg("a/../../outside/victim.txt", b"OWNED")],
        "absolute": lambda: [_reg(str(outside / "abs.txt"), b"OWNED")],
        "symlink_then_file": lambda: [
            _special("lnk", tarfile.SYMTYPE, "../outside"),
            _reg("lnk/victim.txt", b"OWNED"),
        ],
        "symlink_absolute": lambda: [_special("passwd", tarfile.SYMTYPE, "/etc/passwd")],
        "hardlink_outside": lambda: [
            _special("h", tarfile.LNKTYPE, str(outside / "victim.txt")),
            _reg("h", b"OWNED"),
        ],
        "char_device": lambda: [_special("null", tarfile.CHRTYPE)],
        "block_device": lambda: [_special("blk", tarfile.BLKTYPE)],
        "fifo": lambda: [_special("pipe", tarfile.FIFOTYPE)],
        "directory": lambda: [_special("d", tarfile.DIRTYPE), _reg("d/x.jsonl", b"{}\n")],
        "duplicate_name": lambda: [_reg("x.jsonl", b"{}\n"), _reg("x.jsonl", b"OWNED")],
        "dot_components": lambda: [_reg("./a//b.jsonl", b"{}\n")],
        "cve_2025_4517_chain": cve_2025_4517_chain,
    }


CASES = sorted(_cases(Path("/x")))


@pytest.mark.parametrize("case", CASES)
def test_hostile_archive_writes_nothing(tmp_path: Path, case: str) -> None:
    outside, target = tmp_path / "outside", tmp_path / "target"
    outside.mkdir()
    (outside / "victim.txt").write_bytes(b"original")
    before = tree(tmp_path / "outside")
    archive = _write(tmp_path / f"{case}.tar.gz", _cases(outside)[case]())
    with pytest.raises(DataError, match="unsafe archive"):
        restore(archive, [], target)
    assert tree(outside) == before
    assert tree(target) == {}  # refused before anything was written
    assert {p.name for p in tmp_path.iterdir()} <= {"outside", "target", archive.name}


def test_cli_refuses_hostile_archive(tmp_path: Path) -> None:
    from warehouse.cli import main

    outside = tmp_path / "outside"
    outside.mkdir()
    archive = _write(tmp_path / "chain.tar.gz", cve_2025_4517_chain())
    with pytest.raises(SystemExit) as exit_info:
        main(["restore", str(archive), "--to", str(tmp_path / "t")])
    assert exit_info.value.code == 7  # ExitCode.DATA
    assert tree(outside) == {}


def test_symlink_planted_in_target_is_not_followed(tmp_path: Path) -> None:
    """A genuine archive, but the target already holds a symlink where a directory goes."""
    runs, db, files = setup(tmp_path, n=2)
    result = run_archive(db, runs, runs / "_archive", 10)
    assert result.archive is not None
    outside, target = tmp_path / "outside", tmp_path / "target"
    outside.mkdir()
    target.mkdir()
    os.symlink(outside, target / "exp")
    rel = next(r for r in files if r.startswith("exp/"))
    with pytest.raises(DataError):
        restore(result.archive, [rel], target)
    assert tree(outside) == {}


def test_setuid_member_restored_without_special_bits(tmp_path: Path) -> None:
    archive = _write(tmp_path / "suid.tar.gz", [_reg("tool.jsonl", b"{}\n", mode=0o4777)])
    (done,) = restore(archive, [], tmp_path / "t")
    mode = done.path.stat().st_mode
    assert not mode & (stat.S_ISUID | stat.S_ISGID) and done.path.read_bytes() == b"{}\n"


def test_unlisted_or_unmanifested_archive_refused(tmp_path: Path) -> None:
    plain = tmp_path / "plain.tar.gz"
    with tarfile.open(plain, "w:gz") as tar:
        info, data = _reg("x.jsonl", b"{}\n")
        tar.addfile(info, io.BytesIO(data or b""))
    with pytest.raises(DataError, match="not a runs-warehouse archive"):
        restore(plain, [], tmp_path / "t")
    assert tree(tmp_path / "t") == {}


@pytest.mark.parametrize("name", ["", "/abs", "a/../b", "..", "./a", "a//b", "a\\b", "a\x00b", "x" * 300])
def test_name_problems(name: str) -> None:
    assert name_problem(name) is not None


def test_clean_names_pass() -> None:
    assert name_problem("exp/run1.jsonl") is None
    assert name_problem("scattergun_phase2/breadth/m_seed1_N12.jsonl") is None
