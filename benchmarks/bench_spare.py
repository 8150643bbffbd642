#!/usr/bin/env python3
"""Does the spare copy (warehouse/store/spare.py) pay? A one-line-append ingest, spare on vs off.

Each pair times two whole `warehouse ingest` processes on the same database, one with the spare
on and one with WAREHOUSE_SPARE_COPY=0, in alternating order (the machine is shared: same-pair
ratios drift less than separate runs). Before each timed run the background work of the previous
one has ended and `sync` has flushed dirty pages. The state each run starts from is that mode's
steady state: with the spare on, the current snapshot's spare is ready (made by running the
copier, untimed: in use it runs while nobody waits); with it off, there is no spare file at all.
Then one line is appended to FILE (a copy of its last line) and the ingest is timed.

Build the database first with a full ingest of CORPUS into DB, and give FILE a link count of 1.

Example:
  .venv/bin/python benchmarks/bench_spare.py /tmp/c550 /tmp/db70/runs.duckdb /tmp/c550/x.jsonl --pairs 7
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from warehouse.store import spare  # noqa: E402


def settle(db: Path) -> None:
    """Wait for the previous run's copier and remover, then flush dirty pages."""
    while any(".tmp-" in p.name or ".retired-" in p.name for p in db.parent.iterdir()):
        time.sleep(0.1)
    subprocess.run(["sync"], check=True)
    time.sleep(1.0)


def append_line(path: Path) -> None:
    last = path.read_bytes().rstrip(b"\n").rsplit(b"\n", 1)[-1]
    with open(path, "ab") as fh:
        fh.write(last + b"\n")


def timed_ingest(corpus: Path, db: Path, spare_on: bool) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT), spare.SPARE_ENV: "1" if spare_on else "0"}
    argv = [sys.executable, "-m", "warehouse", "ingest", str(corpus), "--db", str(db), "-q"]
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"ingest failed: {done.stderr.strip()}")
    return seconds


def one_run(corpus: Path, db: Path, target: Path, spare_on: bool) -> float:
    settle(db)
    if spare_on:
        subprocess.run(spare.copier_command(db), check=True)
    else:
        for p in db.parent.glob(f".{db.name}.spare-*"):
            p.unlink()
    settle(db)
    append_line(target)
    return timed_ingest(corpus, db, spare_on)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("db", type=Path)
    ap.add_argument("file", type=Path, help="the log file a line is appended to")
    ap.add_argument("--pairs", type=int, default=5)
    args = ap.parse_args()
    on: list[float] = []
    off: list[float] = []
    for i in range(args.pairs):
        order = (True, False) if i % 2 == 0 else (False, True)
        got = {mode: one_run(args.corpus, args.db, args.file, mode) for mode in order}
        on.append(got[True])
        off.append(got[False])
        print(f"pair {i}: on {got[True]:.3f} s  off {got[False]:.3f} s", file=sys.stderr, flush=True)
    settle(args.db)
    ratios = [a / b for a, b in zip(on, off, strict=True)]
    summary = {
        "db_bytes": args.db.stat().st_size,
        "pairs": args.pairs,
        "median_on_s": statistics.median(on),
        "median_off_s": statistics.median(off),
        "median_ratio_on_over_off": statistics.median(ratios),
        "on_s": on,
        "off_s": off,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
