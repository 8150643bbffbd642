#!/usr/bin/env python3
"""Ingest throughput into a DuckLake with 1 and N concurrent writers (issue 8).

Starts its own PostgreSQL and moto S3 on 127.0.0.1 (tests/lake_support.py), generates a corpus
with gen_corpus.py, then per case: a fresh lake, N `warehouse lake ingest` processes over the
same runs directory started together (they split the files through the claim table), wall time
until the last one exits. The embedded `warehouse ingest` of the same corpus is the reference.
Every case checks that the lines loaded add up to the embedded count (exactly once).

The box is shared: the load average and the children's CPU seconds are printed with each case.

  python3 benchmarks/lake_bench.py --size-mb 40 --writers 1,4 --storage local
  python3 benchmarks/lake_bench.py --size-mb 40 --writers 1,4 --storage s3 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def make_corpus(out: Path, size_mb: float, steps: int) -> tuple[Path, int]:
    stamp = out / f".size{size_mb}-steps{steps}"
    if not stamp.exists():
        shutil.rmtree(out, ignore_errors=True)
        subprocess.run(
            [
                sys.executable,
                str(HERE / "gen_corpus.py"),
                str(out),
                "--size-mb",
                str(size_mb),
                "--steps",
                str(steps),
                "--seed",
                "0",
                "--jobs",
                "2",
            ],
            check=True,
            capture_output=True,
        )
        stamp.touch()
    size = sum(p.stat().st_size for p in out.rglob("*.jsonl*") if "_catalog" not in p.parts)
    return out, size


def run_writers(cmds: list[list[str]], env: dict[str, str]) -> tuple[float, float, list[dict[str, Any]]]:
    cpu0, start = children_cpu(), time.perf_counter()
    procs = [
        subprocess.Popen(c, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in cmds
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"writer failed ({proc.returncode}): {err[-2000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return time.perf_counter() - start, children_cpu() - cpu0, results


def embedded_case(runs: Path, work: Path) -> dict[str, Any]:
    db = work / "embedded" / "runs.duckdb"
    shutil.rmtree(db.parent, ignore_errors=True)
    wall, cpu, results = run_writers(
        [[sys.executable, "-m", "warehouse", "ingest", str(runs), "--db", str(db), "--json", "-q"]],
        dict(os.environ),
    )
    return {
        "case": "embedded x1",
        "wall": wall,
        "cpu": cpu,
        "lines": results[0]["lines_good"],
        "conflicts": 0,
        "files_by_writer": [results[0]["files_new"]],
    }


def lake_case(svc: Any, runs: Path, work: Path, writers: int, s3: bool) -> dict[str, Any]:
    from lake_support import new_lake

    lake = new_lake(svc, work / f"lake-{writers}-{time.monotonic_ns()}", s3=s3)
    cmd = [sys.executable, "-m", "warehouse", "lake", "ingest", str(runs), "--db", lake.url, "--json", "-q"]
    wall, cpu, results = run_writers([cmd] * writers, lake.env())
    return {
        "case": f"lake ({'s3' if s3 else 'local'}) x{writers}",
        "wall": wall,
        "cpu": cpu,
        "lines": sum(r["lines_good"] for r in results),
        "conflicts": sum(r["conflicts_retried"] for r in results),
        "files_by_writer": [r["files_new"] for r in results],
        "in_process_s": [r["seconds"] for r in results],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=float, default=40.0)
    ap.add_argument("--steps", type=int, default=160)
    ap.add_argument("--writers", default="1,4", help="comma-separated writer counts")
    ap.add_argument("--storage", choices=("local", "s3"), default="local")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "lake-bench")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "lake_bench.json")
    args = ap.parse_args()

    from lake_support import services, unavailable

    reason = unavailable()
    if reason:
        raise SystemExit(f"lake services unavailable: {reason}")
    svc = services()
    runs, size = make_corpus(args.work / "corpus", args.size_mb, args.steps)
    print(
        f"corpus: {size / 2**20:.1f} MB, {sum(1 for _ in runs.rglob('*.jsonl*'))} files; "
        f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}",
        file=sys.stderr,
    )
    rows = []
    reference = embedded_case(runs, args.work)
    rows.append({**reference, "load": os.getloadavg()[0]})
    for n in [int(x) for x in args.writers.split(",")]:
        for _ in range(args.rounds):
            row = lake_case(svc, runs, args.work, n, args.storage == "s3")
            if row["lines"] != reference["lines"]:
                raise SystemExit(f"{row['case']}: {row['lines']} lines, embedded {reference['lines']}")
            rows.append({**row, "load": os.getloadavg()[0]})
    print(
        f"{'case':<18} {'wall s':>7} {'MB/s':>6} {'lines/s':>8} {'cpu s':>6} {'conflicts':>9}"
        f" {'load':>5}  files per writer"
    )
    for r in rows:
        print(
            f"{r['case']:<18} {r['wall']:7.1f} {size / 2**20 / r['wall']:6.2f} "
            f"{r['lines'] / r['wall']:8.0f} {r['cpu']:6.1f} {r['conflicts']:9d} {r['load']:5.1f}"
            f"  {r['files_by_writer']}"
        )
    for n in sorted({r["case"] for r in rows}):
        walls = [r["wall"] for r in rows if r["case"] == n]
        if len(walls) > 1:
            print(f"median {n}: {statistics.median(walls):.1f} s", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"size_bytes": size, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
