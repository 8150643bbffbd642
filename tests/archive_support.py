"""Shared set-up for the archive tests: a small runs tree, ingested with the real ingest."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import duckdb

HOUR_NS = 3600 * 10**9


def _noise(seed: str, n: int) -> str:
    """n characters that do not compress well (so archives have a realistic size)."""
    out, block = [], seed.encode()
    while sum(map(len, out)) < n:
        block = hashlib.sha256(block).digest()
        out.append(block.hex())
    return "".join(out)[:n]


def log_bytes(run_id: str, steps: int, pad: int = 0) -> bytes:
    lines = [
        {
            "run_header": True,
            "run_id": run_id,
            "ts": 1_700_000_000,
            "config": {"task": "mcq", "num_steps": steps},
        }
    ]
    for s in range(steps):
        lines.append(
            {
                "run_id": run_id,
                "step": s,
                "ts": 1_700_000_000 + s,
                "evaluation": {"correct": s % 2 == 0},
                "note": _noise(f"{run_id}/{s}", pad),
            }
        )
    lines.append({"run_end": True, "run_id": run_id, "status": "complete", "steps_logged": steps})
    return b"".join(json.dumps(x).encode() + b"\n" for x in lines)


def make_runs(
    root: Path, n: int = 4, steps: int = 3, pad: int = 0, age_ns: int = HOUR_NS
) -> dict[str, bytes]:
    """n complete logs under root/exp and root/compare, all `age_ns` old. Returns relpath -> bytes."""
    files: dict[str, bytes] = {}
    old = time.time_ns() - age_ns
    for i in range(n):
        rel = f"{'exp' if i % 2 == 0 else 'compare/openai_gpt-4.1'}/run{i}.jsonl"
        data = log_bytes(f"r{i}", steps, pad)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, ns=(old, old))
        files[rel] = data
    return files


def ingest(runs: Path, db: Path) -> None:
    from ingest import ingest_runs

    ingest_runs(str(runs), str(db))


_TEMPLATE: list[Path] = []


def empty_db(db: Path) -> None:
    """Start `db` from a migrated empty database made once per session (migrations are slow)."""
    import shutil
    import tempfile

    from warehouse.store.db import open_writer

    if not _TEMPLATE:
        template = Path(tempfile.mkdtemp(prefix="wh-template-")) / "empty.duckdb"
        with open_writer(template, "test template"):
            pass
        _TEMPLATE.append(template)
    db.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_TEMPLATE[0], db)  # no connection is open on either file


def setup(tmp: Path, **kw: int) -> tuple[Path, Path, dict[str, bytes]]:
    runs, db = tmp / "runs", tmp / "runs" / "runs.duckdb"
    files = make_runs(runs, **kw)
    empty_db(db)
    ingest(runs, db)
    return runs, db, files


def files_rows(db: Path) -> dict[str, tuple[str, str]]:
    """relpath -> (path, status) from the published snapshot."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0]: (r[1], r[2]) for r in con.execute("SELECT relpath, path, status FROM files").fetchall()}
    finally:
        con.close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree(root: Path) -> dict[str, bytes | str]:
    """Every entry under root: file bytes, or 'dir' / 'link -> target'."""
    out: dict[str, bytes | str] = {}
    if not root.exists():
        return out
    for dirpath, dirs, names in os.walk(root):
        for name in dirs + names:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                out[rel] = f"link -> {os.readlink(p)}"
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = p.read_bytes()
    return out
