"""Helpers for the reliability tests: corpora, CLI subprocesses, state snapshots.

The child helper (tests/reliability_child.py) runs a real ingest in its own process with fault
actions attached to the named fault points (pause, SIGKILL after a delay, lock checks).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ingest_support import content_hash

HERE = Path(__file__).parent
CHILD = HERE / "reliability_child.py"


def killed_at(point: str, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -c code args...` with the named fault point armed: it SIGKILLs itself there."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**os.environ, "WAREHOUSE_KILL_AT": point},
        capture_output=True,
        text=True,
        timeout=120,
    )


def write_corpus(root: Path, files: int, steps: int, tag: str, pad: int = 300) -> int:
    """`files` complete runs (header, steps, run_end) under root/<tag>/; returns the line count."""
    lines_total = 0
    for f in range(files):
        d = root / tag / f"exp{f % 3}"
        d.mkdir(parents=True, exist_ok=True)
        run = f"{tag}-{f}"
        recs: list[dict[str, Any]] = [
            {
                "run_header": True,
                "run_id": run,
                "ts": 1_700_000_000,
                "schema_version": 2,
                "config": {"task": "mcq", "num_steps": steps, "dials": {"best_of_n": f % 3}},
                "student": {"type": "oracle", "provider": "local", "model": f"m{f % 4}"},
            }
        ]
        for i in range(steps):
            recs.append(
                {
                    "run_id": run,
                    "step": i,
                    "ts": 1_700_000_000 + i,
                    "task": {
                        "type": "mcq",
                        "stem": f"{tag} item {i}",
                        "options": ["a", "b", "c"],
                        "correct_index": i % 3,
                    },
                    "answer": {"chosen_index": (i * 7 + f) % 3},
                    "evaluation": {
                        "correct": (i * 7 + f) % 3 == i % 3,
                        "citations_evidence": {"coverage": 0.5, "witness_pass": True, "credited": i % 2 == 0},
                    },
                    "presented_stem": f"{run}/{i} " + "x" * pad,
                    "duration_ms": 12.5,
                    "student_usage": {"calls": 1, "total_tokens": 40 + i},
                }
            )
        recs.append({"run_end": True, "run_id": run, "status": "complete", "steps_logged": steps})
        path = d / f"local_m{f % 4}_{tag}{f}_sc1_b6.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
        lines_total += len(recs)
    return lines_total


def cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m warehouse <args>` in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "warehouse", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        cwd=cwd,
    )


def child(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start tests/reliability_child.py (see its docstring for the actions)."""
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def state(db: Path) -> tuple[Any, ...] | None:
    """Content hash of the published snapshot (None when nothing is published yet)."""
    return content_hash(db) if db.exists() else None


def shell_count(db: Path, sql: str) -> str:
    """One value from the pinned `duckdb` shell opened read-only on db."""
    exe = Path(sys.executable).parent / "duckdb"
    out = subprocess.run(
        [str(exe), "-readonly", "-noheader", "-list", str(db), "-c", sql],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def posix_locks(path: Path) -> list[tuple[str, str, int]]:
    """(kind, mode, pid) of every /proc/locks entry on path's inode (POSIX = DuckDB's lock)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return []
    want = (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
    found = []
    with open("/proc/locks", encoding="ascii") as fh:
        for line in fh:
            parts = line.split()
            if parts[1] == "->":  # a waiter: "1: -> POSIX ADVISORY WRITE ..."
                parts = parts[:1] + parts[2:]
            kind, mode, pid, where = parts[1], parts[3], int(parts[4]), parts[5]
            major, minor, inode = where.split(":")
            if (int(major, 16), int(minor, 16), int(inode)) == want:
                found.append((kind, mode, pid))
    return found
