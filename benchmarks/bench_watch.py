#!/usr/bin/env python3
"""`warehouse ingest --watch` measured: latency from a completed line to the published database,
bursts, idle CPU and memory.

Per corpus (a private copy, ingested once beforehand, not timed): start the watch, then
  sweep    N lines, one at a time, the next one GAP_SWEEP s after the previous was visible
           (a sweep writing: the worker stays up between rounds)
  sparse   N lines the same way, IDLE gap longer than the worker's idle exit (each round starts one)
  burst    BURST lines over 10 files written at once: time until all are visible, rounds used
  idle     after the worker exited: the watcher's CPU over 10 s, and the RSS of the watcher and
           of any process under it
Latency = from the append's close() to the moment a read-only connection to the published
snapshot sees the line (the observer stats the snapshot every 10 ms and queries when it changed).

The one-shot no-op and one-line append on the 20,000-file corpus are bench_ab.py's (two
revisions interleaved on one copy): .venv/bin/python benchmarks/bench_ab.py --rev BASE --rev HEAD

Examples:
  .venv/bin/python benchmarks/bench_watch.py                                # small + many, 12 lines
  .venv/bin/python benchmarks/bench_watch.py --corpus mine=/data/runs --lines 20
"""

from __future__ import annotations

import argparse
import json
import os
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

GAP_SWEEP = 0.3
IDLE_EXIT = 2.0  # ingest/watch.py IDLE_EXIT_S
BURST = 50
TICKS = os.sysconf("SC_CLK_TCK")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", action="append", default=[], help="label=path (default: small and many)")
    p.add_argument("--root", type=Path, default=Path("/tmp/bench"))
    p.add_argument("--lines", type=int, default=12, help="lines per regime (medians over these)")
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--json", type=Path, default=HERE / "out" / "bench_watch.json", help="results file")
    return p.parse_args(argv)


def corpora(args: argparse.Namespace) -> dict[str, Path]:
    if args.corpus:
        return {c.split("=", 1)[0]: Path(c.split("=", 1)[1]) for c in args.corpus}
    out = {}
    for label, gen in (("small", ["--files", "200", "--steps", "20"]), ("many", ["--preset", "many"])):
        path = args.root / f"watch-src-{label}"
        if gen_corpus.read_manifest(path) is None:
            gen_corpus.main([*gen, str(path)])
        out[label] = path
    return out


def warehouse(args: argparse.Namespace, *argv: str, **kw: Any) -> Any:
    return subprocess.Popen([args.python, "-m", "warehouse", *argv], **kw)


def missing(db: Path, targets: list[tuple[Path, int]]) -> list[tuple[Path, int]]:
    """The (file, step) pairs not yet in the published snapshot (one read-only connection)."""
    import duckdb

    paths = ", ".join("'" + str(p).replace("'", "''") + "'" for p, _ in targets)
    con = duckdb.connect(str(db), read_only=True)
    try:
        top = dict(
            con.execute(
                "SELECT f.path, max(r.step) FROM records r JOIN files f USING (file_id)"
                f" WHERE f.path IN ({paths}) GROUP BY f.path"
            ).fetchall()
        )
    finally:
        con.close()
    return [(p, step) for p, step in targets if (top.get(str(p)) or -1) < step]


def wait_visible(db: Path, targets: list[tuple[Path, int]], timeout: float = 120.0) -> float:
    """Seconds until every (file, step) is in the published snapshot."""
    start, last, left = time.perf_counter(), None, list(targets)
    while left:
        st = db.stat()
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp != last:
            last = stamp
            left = missing(db, left)
            if not left:
                break
        if time.perf_counter() - start > timeout:
            raise SystemExit(f"bench_watch: {left[0]} not visible after {timeout} s")
        time.sleep(0.01)
    return time.perf_counter() - start


def appended(target: Path) -> tuple[Path, int]:
    append_step(target, whole=True)
    rec = last_step_line(target)
    assert rec is not None
    return target, int(rec["step"])


def loaded(runs: Path, path: Path) -> bool:
    """A file ingest reads (not under _aggregated/, _archive/, _catalog/ or a dot-name)."""
    parts = path.relative_to(runs).parts
    return not any(p.startswith(".") or p in ("_aggregated", "_archive", "_catalog") for p in parts)


def tree_rss_cpu(pid: int) -> tuple[int, float, int]:
    """(RSS in KiB of pid and its children, CPU seconds of pid, number of children)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    rss = 0
    for p in [str(pid), *children]:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1])
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return rss, (int(fields[11]) + int(fields[12])) / TICKS, len(children)


def regime(db: Path, files: list[Path], n: int, gap: float, pid: int) -> dict[str, Any]:
    lat, peak = [], 0
    for i in range(n):
        target = appended(files[i % len(files)])
        lat.append(wait_visible(db, [target]))
        peak = max(peak, tree_rss_cpu(pid)[0])
        time.sleep(gap)
    return {"median_s": statistics.median(lat), "max_s": max(lat), "n": n, "peak_rss_mib": peak / 1024}


def one_corpus(args: argparse.Namespace, label: str, source: Path) -> dict[str, Any]:
    work = args.root / f"watch-{label}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(source, work / "runs", symlinks=True)
    runs, db = work / "runs", work / "db" / "runs.duckdb"
    warehouse(args, "ingest", str(runs), "--db", str(db), "-q").wait()
    logs = [p for p in sorted(runs.rglob("*.jsonl")) if loaded(runs, p)]
    files = [p for p in logs if last_step_line(p) is not None][:10]
    out = open(work / "rounds.jsonl", "w")  # noqa: SIM115
    proc = warehouse(args, "ingest", str(runs), "--db", str(db), "--watch", "-q", "--json", stdout=out)
    try:
        time.sleep(IDLE_EXIT + 3)  # the first round (a no-op) and the worker's exit
        res: dict[str, Any] = {"files": sum(1 for _ in runs.rglob("*.jsonl*"))}
        res["sweep"] = regime(db, files, args.lines, GAP_SWEEP, proc.pid)
        res["sparse"] = regime(db, files, args.lines, IDLE_EXIT + 1.5, proc.pid)
        out.flush()
        before = (work / "rounds.jsonl").read_text().count("\n")
        targets = [appended(files[i % len(files)]) for i in range(BURST)]
        res["burst"] = {"lines": BURST, "all_visible_s": wait_visible(db, targets)}
        time.sleep(0.5)
        res["burst"]["rounds"] = (work / "rounds.jsonl").read_text().count("\n") - before
        time.sleep(IDLE_EXIT + 2)
        rss0, cpu0, _ = tree_rss_cpu(proc.pid)
        time.sleep(10)
        rss1, cpu1, kids = tree_rss_cpu(proc.pid)
        res["idle"] = {
            "cpu_pct": 100 * (cpu1 - cpu0) / 10,
            "rss_mib": max(rss0, rss1) / 1024,
            "children": kids,
        }
        proc.terminate()
        res["exit_code"] = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        out.close()
    return res


def report(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| corpus | files | sweep median (max) s | sparse median (max) s | burst: 50 lines visible s, rounds "
        "| idle CPU % (10 s) | idle RSS MiB | peak RSS MiB | exit on SIGTERM |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, r in results.items():
        sw, sp, b, idle = r["sweep"], r["sparse"], r["burst"], r["idle"]
        peak = max(sw["peak_rss_mib"], sp["peak_rss_mib"])
        lines.append(
            f"| {label} | {r['files']} | {sw['median_s']:.2f} ({sw['max_s']:.2f}) "
            f"| {sp['median_s']:.2f} ({sp['max_s']:.2f}) | {b['all_visible_s']:.2f}, {b['rounds']} "
            f"| {idle['cpu_pct']:.2f} | {idle['rss_mib']:.0f} | {peak:.0f} "
            f"| {r['exit_code']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = {label: one_corpus(args, label, path) for label, path in corpora(args).items()}
    load = os.getloadavg()
    print(f"{args.lines} lines per regime; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(report(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
