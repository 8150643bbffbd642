#!/usr/bin/env python3
"""Benchmark of the keep commands on one generated corpus: export, report, archive, restore.

Each command runs as its own process under /usr/bin/time -v (benchlib.run_case): wall time,
peak RSS (largest process and whole tree), CPU stall. Archive is measured on a copy of the corpus
and database, and also reports the archive size and its share of the original bytes; restore
re-creates every file and the script checks them byte for byte against the copy.

Example:
  python3 benchmarks/bench_keep.py --size-mb 100 --root /tmp/bench_keep
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

from benchlib import Result, fmt_s, quote, run_case

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def _tree_digest(root: Path) -> dict[str, str]:
    skip, db_files = ("_archive", "_aggregated", "_catalog"), (".duckdb", ".lock", ".live")
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and rel.parts[0] not in skip and not p.name.endswith(db_files):
            out[rel.as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _line(r: Result, extra: str = "") -> str:
    return (
        f"| {r.case} | {fmt_s(r.wall)} | {r.rss_mib:.0f} | {r.tree_rss_mib:.0f} | "
        f"{r.cpu_stall:.0%} | {r.rc} | {extra} |"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=Path("/tmp/bench_keep"))
    ap.add_argument("--size-mb", type=float, default=100)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--python", default=str(REPO / ".venv/bin/python"))
    args = ap.parse_args(argv)
    wh = f"{quote(args.python)} -m warehouse"
    runs, db = args.root / "runs", args.root / "runs" / "runs.duckdb"
    if not db.exists():
        shutil.rmtree(args.root, ignore_errors=True)
        subprocess.run(
            [
                args.python,
                str(HERE / "gen_corpus.py"),
                str(runs),
                "--size-mb",
                str(args.size_mb),
                "--steps",
                str(args.steps),
                "--jobs",
                "2",
            ],
            check=True,
        )
        subprocess.run([args.python, "-m", "warehouse", "ingest", str(runs), "--db", str(db)], check=True)
    logs, rows = args.root / "logs", []
    raw = sum(p.stat().st_size for p in runs.rglob("*.jsonl*"))
    r = run_case(
        "keep",
        "export both",
        1,
        f"{wh} export --db {quote(db)} --out-dir {quote(args.root / 'agg')}",
        cwd=REPO,
        log_dir=logs,
    )
    exported = sum(p.stat().st_size for p in (args.root / "agg").rglob("*") if p.is_file())
    rows.append(_line(r, f"{exported / 2**20:.1f} MiB written"))
    plots = args.root / "plots"
    r = run_case(
        "keep", "report", 1, f"{wh} report --db {quote(db)} --out-dir {quote(plots)}", cwd=REPO, log_dir=logs
    )
    rows.append(_line(r, r.stderr_tail.strip().splitlines()[-1] if r.stderr_tail.strip() else ""))
    work = args.root / "work"
    shutil.rmtree(work, ignore_errors=True)
    # the database records absolute paths: archive a fresh copy of the logs with its own database
    shutil.copytree(
        runs,
        work / "runs",
        ignore=shutil.ignore_patterns("*.duckdb*", ".*.duckdb*", "_aggregated", "_archive"),
    )
    subprocess.run(
        [
            args.python,
            "-m",
            "warehouse",
            "ingest",
            str(work / "runs"),
            "--db",
            str(work / "runs" / "runs.duckdb"),
        ],
        check=True,
        capture_output=True,
    )
    before = _tree_digest(work / "runs")
    r = run_case(
        "keep",
        "archive",
        1,
        f"{wh} archive --json --min-age-minutes 0 --db "
        f"{quote(work / 'runs' / 'runs.duckdb')} --runs-dir {quote(work / 'runs')}",
        cwd=REPO,
        log_dir=logs,
    )
    info = json.loads(r.stdout or "{}")
    n = sum(1 for f in info.get("files", []) if f["action"] == "archive")
    size = info.get("archive_bytes") or 0
    rows.append(_line(r, f"{n} files, {raw / 2**20:.1f} MiB -> {size / 2**20:.1f} MiB"))
    archive = info.get("archive")
    back = work / "restored"
    r = run_case(
        "keep",
        "restore all",
        1,
        f"{wh} restore {quote(str(archive))} --to {quote(back)}",
        cwd=REPO,
        log_dir=logs,
    )
    restored = _tree_digest(back)
    same = n > 0 and len(restored) == n and all(before.get(k) == v for k, v in restored.items())
    rows.append(_line(r, f"{len(restored)} files, byte-identical: {same}"))
    print(f"corpus: {raw / 2**20:.1f} MiB of logs under {runs}")
    print("| case | wall | RSS MiB | tree RSS MiB | CPU stall | rc | notes |")
    print("|---|---:|---:|---:|---:|---:|---|")
    print("\n".join(rows))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
