#!/usr/bin/env python3
"""Interleaved A/B of the incremental ingest: two git revisions on one copy of one corpus.

Separate benchmark runs are minutes apart, and this machine's speed drifts by 20-30% over an
hour (the same read_json floor took 6.8 s and 8.6 s on one day), so a small change in a short
command is only visible side by side. Each round appends one step line to one file, then every
revision ingests it (the order alternates by round), then every revision runs a no-op. Each
revision has its own database, started by a full ingest; the code is each revision's committed
tree, extracted and byte-compiled (bench_code.py).

Prints per revision and case the median wall time (min-max) of the whole process, its CPU
(user+sys, child processes included) and the ingest's own `seconds`, and the median of the
same-round ratios against the first revision.

Examples:
  .venv/bin/python benchmarks/bench_ab.py --rev 982c615 --rev HEAD
  .venv/bin/python benchmarks/bench_ab.py --rev HEAD~1 --rev HEAD --rounds 25 --corpus /data/runs
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gen_corpus  # noqa: E402
from bench_checks import append_step, last_step_line  # noqa: E402
from bench_code import code_env, snapshot_code  # noqa: E402

CASES = ("append", "noop")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rev", action="append", required=True, help="a git revision (give two or more)")
    p.add_argument("--corpus", type=Path, help="a runs folder (default: the 'many' preset under --root)")
    p.add_argument("--root", type=Path, default=Path("/tmp/bench"), help="corpora, code snapshots, DBs")
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--pause", type=float, default=0.3, help="seconds between two commands")
    p.add_argument("--python", default=sys.executable)
    args = p.parse_args(argv)
    if len(args.rev) < 2:
        p.error("give at least two --rev")
    if args.corpus is not None and not args.corpus.is_dir():
        p.error(f"--corpus {args.corpus}: no such folder")
    return args


def code_dirs(args: argparse.Namespace) -> dict[str, Path]:
    """One extracted tree per --rev, by a unique name (the same revision twice: an A/A run)."""
    dirs: dict[str, Path] = {}
    for rev in args.rev:
        ns = argparse.Namespace(code_rev=rev, root=args.root, python=args.python)
        try:
            snapshot_code(ns)
        except subprocess.CalledProcessError as e:
            said = e.stderr.decode() if isinstance(e.stderr, bytes) else e.stderr or ""
            raise SystemExit(f"bench_ab: cannot extract {rev!r}: {said.strip()}") from e
        name = f"{rev} ({ns.code_rev})"
        while name in dirs:
            name += "'"
        dirs[name] = ns.code_dir
    return dirs


def corpus_copy(args: argparse.Namespace) -> tuple[Path, Path]:
    """A private copy of the corpus, and the log file the rounds append to."""
    source = args.corpus or args.root / "many"
    if args.corpus is None and gen_corpus.read_manifest(source) is None:
        gen_corpus.main(["--preset", "many", str(source)])
    work = args.root / "ab" / "runs"
    shutil.rmtree(work.parent, ignore_errors=True)
    shutil.copytree(source, work, symlinks=True)
    target = next(p for p in sorted(work.rglob("*.jsonl")) if last_step_line(p) is not None)
    return work, target


def ingest(code: Path, runs: Path, db: Path, python: str) -> dict[str, Any]:
    """One `warehouse ingest --json` of `code`: wall, CPU and its summary."""
    env = code_env(code)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [python, "-m", "warehouse", "ingest", str(runs), "--db", str(db), "-q", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"bench_ab: ingest with {code} failed: {done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "summary": json.loads(done.stdout)}


def run(args: argparse.Namespace) -> dict[str, dict[str, list[dict[str, Any]]]]:
    codes = code_dirs(args)
    runs, target = corpus_copy(args)
    dbs = {name: runs.parent / f"db-{i}" / "runs.duckdb" for i, name in enumerate(codes)}
    for name, code in codes.items():
        print(f"[ab] {name}: full ingest of {runs}", file=sys.stderr)
        ingest(code, runs, dbs[name], args.python)
    results: dict[str, dict[str, list[dict[str, Any]]]] = {n: {c: [] for c in CASES} for n in codes}
    for rnd in range(args.rounds):
        order = list(codes) if rnd % 2 == 0 else list(reversed(codes))
        append_step(target, whole=True)
        for case, lines in (("append", 1), ("noop", 0)):
            for name in order:
                time.sleep(args.pause)
                r = ingest(codes[name], runs, dbs[name], args.python)
                if r["summary"]["lines_good"] != lines:
                    raise SystemExit(f"bench_ab: {name} {case} loaded {r['summary']['lines_good']} lines")
                results[name][case].append(r)
        print(f"[ab] round {rnd + 1}/{args.rounds} done", file=sys.stderr)
    return results


def report(results: dict[str, dict[str, list[dict[str, Any]]]]) -> str:
    base = next(iter(results))
    lines = ["| revision | case | wall s median (min-max) | CPU s | in-process s | x first (same round) |"]
    lines.append("|---|---|---|---|---|---|")
    for name, cases in results.items():
        for case, rs in cases.items():
            walls = [r["wall"] for r in rs]
            ratio = statistics.median(
                r["wall"] / b["wall"] for r, b in zip(rs, results[base][case], strict=True)
            )
            lines.append(
                f"| {name} | {case} | {statistics.median(walls):.3f} ({min(walls):.3f}-{max(walls):.3f}) "
                f"| {statistics.median(r['cpu'] for r in rs):.3f} "
                f"| {statistics.median(r['summary']['seconds'] for r in rs):.3f} | {ratio:.2f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = run(args)
    print(f"{args.rounds} rounds, one-line append then no-op, order alternating by round:")
    print(report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
