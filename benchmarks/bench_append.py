#!/usr/bin/env python3
"""What a one-line ingest costs on a big database, for two or more code revisions side by side.

Each variant gets its own copy of DB (variants change their databases differently) and runs the
code of one committed revision (extracted under --root) or of the working tree (`tree`). Every
round appends one step line to FILE, then runs `warehouse ingest CORPUS` once per variant, in an
order that alternates between rounds, so every variant ingests the same one new line. Each run:
  wall        the whole `warehouse ingest` process
  background  from its exit until the folder is settled (no copier, remover or temp file left)
  peak extra  the largest growth of the bytes allocated in the database folder over its
              allocation before the run, sampled every 10 ms from start until settled
  size        the database file after the run; `free` its free blocks (pragma database_size)
  folder      all bytes allocated in the folder once settled (the snapshot plus any spare)
Before each run the folder is settled and `sync` has flushed dirty pages.

Build the database first (`warehouse ingest CORPUS --db DB`); FILE must be a log file of CORPUS
with one link (with hard-linked corpus copies, `cp` it over itself first).

Example:
  .venv/bin/python benchmarks/bench_append.py /tmp/big /tmp/dbbig/runs.duckdb /tmp/big/c0/x.jsonl \\
      --variant before=HEAD~1 --variant after=tree --rounds 10
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from bench_checks import append_step  # noqa: E402

BUSY_MARKS = (".tmp-", ".retired-")


@dataclass
class Variant:
    label: str
    code: Path
    db: Path
    runs: list[dict[str, Any]] = field(default_factory=list)


def extract(rev: str, root: Path) -> Path:
    """The working tree (`tree`) or the committed tree at `rev`, extracted and byte-compiled."""
    if rev == "tree":
        return REPO
    sha = subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    target = root / f"code-{sha}"
    if not target.exists():
        tmp = root / f".code-{sha}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", sha], cwd=REPO, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tmp)], check=True)
        tmp.rename(target)
    return target


def allocated(folder: Path) -> int:
    total = 0
    for p in folder.iterdir():
        try:
            total += p.stat().st_blocks * 512
        except FileNotFoundError:
            continue
    return total


def busy(folder: Path) -> bool:
    return any(mark in p.name for p in folder.iterdir() for mark in BUSY_MARKS)


def settle(folder: Path) -> None:
    while busy(folder):
        time.sleep(0.05)


class DiskSampler(threading.Thread):
    """The most bytes allocated in `folder` at any 10 ms sample while running."""

    def __init__(self, folder: Path) -> None:
        super().__init__(daemon=True)
        self.folder = folder
        self.peak = allocated(folder)
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(0.01):
            self.peak = max(self.peak, allocated(self.folder))

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return max(self.peak, allocated(self.folder))


def free_blocks(db: Path) -> tuple[int, int]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute("PRAGMA database_size").fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[3]), int(row[5])


def one_run(v: Variant, corpus: Path) -> dict[str, Any]:
    folder = v.db.parent
    settle(folder)
    subprocess.run(["sync"], check=True)
    time.sleep(0.5)
    before = allocated(folder)
    sampler = DiskSampler(folder)
    sampler.start()
    env = {k: val for k, val in os.environ.items() if k != "WAREHOUSE_CONFIG"}
    env["PYTHONPATH"] = str(v.code)
    argv = [sys.executable, "-m", "warehouse", "ingest", str(corpus), "--db", str(v.db), "-q"]
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    settle(folder)
    background = time.perf_counter() - start - wall
    peak = sampler.stop()
    if done.returncode != 0:
        raise SystemExit(f"{v.label}: ingest failed: {done.stderr.strip()}")
    blocks, free = free_blocks(v.db)
    return {
        "wall_s": wall,
        "background_s": background,
        "peak_extra_bytes": peak - before,
        "size_bytes": v.db.stat().st_size,
        "blocks": blocks,
        "free_blocks": free,
        "folder_bytes": allocated(folder),
    }


def prepare(spec: str, db: Path, root: Path) -> Variant:
    """`label=rev`, or `label=rev@path` to start from the database at path (say, one built by that
    revision) instead of DB."""
    label, _, rev = spec.partition("=")
    rev, _, own_db = rev.partition("@")
    db = Path(own_db) if own_db else db
    code = extract(rev or "tree", root)
    # Beside its own database (which may be on another file system), else under --root.
    target = (db.parent.parent if own_db else root) / f"bench-{label}" / db.name
    shutil.rmtree(target.parent, ignore_errors=True)
    target.parent.mkdir(parents=True)
    subprocess.run(["cp", "--sparse=always", str(db), str(target)], check=True)
    return Variant(label, code, target)


def summarise(v: Variant) -> dict[str, Any]:
    sizes = [r["size_bytes"] for r in v.runs]
    return {
        "runs": len(v.runs),
        "median_wall_s": statistics.median(r["wall_s"] for r in v.runs),
        "median_background_s": statistics.median(r["background_s"] for r in v.runs),
        "median_peak_extra_mb": statistics.median(r["peak_extra_bytes"] for r in v.runs) / 2**20,
        "max_peak_extra_mb": max(r["peak_extra_bytes"] for r in v.runs) / 2**20,
        "first_size_mb": sizes[0] / 2**20,
        "last_size_mb": sizes[-1] / 2**20,
        "growth_per_append_mb": (sizes[-1] - sizes[0]) / max(1, len(sizes) - 1) / 2**20,
        "last_free_blocks": v.runs[-1]["free_blocks"],
        "last_blocks": v.runs[-1]["blocks"],
        "folder_mb": v.runs[-1]["folder_bytes"] / 2**20,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("db", type=Path)
    ap.add_argument("file", type=Path, help="the log file a step line is appended to each round")
    ap.add_argument(
        "--variant", action="append", required=True, help="label=rev[@db] (rev: a git revision or `tree`)"
    )
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--root", type=Path, default=Path("/tmp/bench/append"))
    args = ap.parse_args()
    args.root.mkdir(parents=True, exist_ok=True)
    variants = [prepare(spec, args.db, args.root) for spec in args.variant]
    for i in range(args.rounds):
        append_step(args.file, whole=True)
        order = variants if i % 2 == 0 else variants[::-1]
        for v in order:
            v.runs.append(one_run(v, args.corpus))
            r = v.runs[-1]
            print(
                f"round {i} {v.label}: {r['wall_s']:.2f} s (+{r['background_s']:.2f} s background), "
                f"peak +{r['peak_extra_bytes'] / 2**20:.0f} MB, size {r['size_bytes'] / 2**20:.0f} MB, "
                f"free {r['free_blocks']}/{r['blocks']}",
                file=sys.stderr,
                flush=True,
            )
    base = variants[0]
    out: dict[str, Any] = {"variants": {v.label: summarise(v) for v in variants}}
    for v in variants[1:]:
        ratios = [a["wall_s"] / b["wall_s"] for a, b in zip(v.runs, base.runs, strict=True)]
        out[f"median_wall_ratio_{v.label}_over_{base.label}"] = statistics.median(ratios)
    out["raw"] = {v.label: v.runs for v in variants}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
