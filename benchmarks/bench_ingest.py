#!/usr/bin/env python3
"""Ingest benchmark: our `warehouse ingest` next to the `cat` floor and the bare read_json floor.

In ONE run, interleaved over rounds (each round runs every case once per corpus, so each round
has its own floors and ratios are medians of same-round ratios, which a noisy shared machine skews less):
  cat      find CORPUS -name '*.jsonl' -print0 | xargs -0 cat > /dev/null      (the I/O floor)
  floor    one DuckDB read_json(files, columns={...}) CTAS into a fresh file    (the engine floor)
  ours     warehouse ingest CORPUS --db <fresh db> --json                      (the full ingest)
each a subprocess under /usr/bin/time -v (peak RSS). Then, on the `many` corpus (a copy): a no-op
re-ingest of the unchanged files and a one-line append (plus a torn half-line and its completion),
and, on the 1 GB database, a group-by over typed columns vs the same over the raw JSON column.

Prints a table with PASS/FAIL against the issue's targets, writes JSON to benchmarks/out/ and a
markdown summary (between markers) to benchmarks/RESULTS.md. Corpora live under --root
(default /tmp/bench) and are generated on first use with gen_corpus.py.

Examples:
  .venv/bin/python benchmarks/bench_ingest.py                         # every shape, 3 rounds
  .venv/bin/python benchmarks/bench_ingest.py --corpora 100mb --rounds 1 --no-results-md
  .venv/bin/python benchmarks/bench_ingest.py --corpora 5gb --rounds 1 --incr-corpus none --query-corpus none
  .venv/bin/python benchmarks/bench_ingest.py --corpus mine=/data/runs --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import bench_render  # noqa: E402
import bench_report  # noqa: E402
import gen_corpus  # noqa: E402
from bench_checks import append_step, db_size, expect_lines, last_step_line, rows_check  # noqa: E402
from bench_code import code_env, ingest_available, snapshot_code, warehouse_cmd  # noqa: E402
from benchlib import Result, machine_info, quote, run_case  # noqa: E402

SKIP_DIRS = {"_aggregated", "_archive", "_catalog"}
LOG_SUFFIXES = (".jsonl", ".jsonl.recovered", ".jsonl.gz")


@dataclass
class Corpus:
    label: str
    path: Path
    manifest: dict[str, Any] | None
    file_list: Path
    n_files: int
    bytes: int


def log_files(root: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        out.extend(Path(dirpath) / f for f in sorted(filenames) if f.endswith(LOG_SUFFIXES))
    return out


def prepare_corpus(label: str, path: Path | None, args: argparse.Namespace) -> Corpus:
    """Use an existing corpus, or generate the preset `label` under --root if missing/stale."""
    if path is None:
        path = args.root / label
        files, steps = gen_corpus.resolve(label)
        m = gen_corpus.read_manifest(path)
        mix = label if label in gen_corpus.MIXES else None
        seen = (m["files"], m["steps"], m["seed"], m["dirty_frac"], m.get("mix")) if m else None
        if seen != (files, steps, args.seed, 0.0, mix):
            print(
                f"[bench] generating corpus {label} ({files} files x {steps} steps) in {path}",
                file=sys.stderr,
            )
            gen_corpus.generate(path, files, steps, args.seed, args.gen_jobs, 0.0, label)
    if not path.is_dir():
        raise SystemExit(f"corpus {label}: {path} is not a directory")
    files_ = log_files(path)
    work = args.root / "work"
    work.mkdir(parents=True, exist_ok=True)
    flist = work / f"{label}.files"
    flist.write_text("".join(f"{p}\n" for p in files_))
    return Corpus(
        label, path, gen_corpus.read_manifest(path), flist, len(files_), sum(p.stat().st_size for p in files_)
    )


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.results: list[Result] = []
        self.logs = args.out / "logs"
        self.dbroot = args.root / "db"
        self.env = code_env(args.code_dir)
        self.notes: list[str] = []

    # ------------------------------------------------------------ cases
    def cmd(self, case: str, corpus: Corpus, db: Path) -> str:
        if case == "cat":
            return f"find {quote(corpus.path)} -name '*.jsonl*' -print0 | xargs -0 cat > /dev/null"
        if case in ("floor", "floor_narrow"):
            narrow = " --narrow" if case == "floor_narrow" else ""
            batch = (
                f" --batch-files {self.args.floor_batch}"
                if self.args.floor_batch and corpus.n_files > self.args.floor_batch
                else ""
            )
            return (
                f"{quote(self.args.python)} {quote(HERE / 'floor_read_json.py')} "
                f"{quote(corpus.file_list)} {quote(db)}{batch}{narrow}"
            )
        return f"{warehouse_cmd(self.args)} ingest {quote(corpus.path)} --db {quote(db)} --json"

    def run(self, corpus: str, case: str, rnd: int, cmd: str) -> Result:
        res = run_case(
            corpus,
            case,
            rnd,
            cmd,
            cwd=self.args.root,
            log_dir=self.logs,
            env=self.env,
            timeout=self.args.timeout,
        )
        try:
            res.extra["json"] = json.loads(res.stdout.splitlines()[-1]) if res.stdout else None
        except (ValueError, IndexError):
            res.extra["json"] = None
        self.results.append(res)
        status = "ok" if res.rc == 0 else f"rc={res.rc}"
        print(
            f"[bench] r{rnd} {corpus:>6} {case:<28} {res.wall:8.3f} s  cpu {res.user + res.sys:7.2f} s"
            f"  rss {res.rss_mib:6.0f} MiB  tree {res.tree_rss_mib:6.0f} MiB"
            f"  cpu-stall {res.cpu_stall:4.0%}  {status}",
            file=sys.stderr,
        )
        if res.rc != 0:
            print(f"[bench]   stderr tail: {res.stderr_tail[-600:]}", file=sys.stderr)
        return res

    def fresh_db(self, name: str) -> Path:
        d = self.dbroot / name
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        return d / "runs.duckdb"

    # ------------------------------------------------------------ full ingest rounds
    def rounds(self, corpora: list[Corpus], cases: list[str]) -> dict[str, Path]:
        kept: dict[str, Path] = {}
        for c in corpora:  # warm the page cache once: every figure is a warm-cache one
            subprocess.run(self.cmd("cat", c, Path("/dev/null")), shell=True, check=False)
        for rnd in range(self.args.rounds):
            for c in corpora:
                for case in cases:
                    db = self.fresh_db(f"{c.label}.{case}.r{rnd}")
                    res = self.run(c.label, case, rnd, self.cmd(case, c, db))
                    res.extra["db_mib"] = db_size(db) / 2**20
                    if case == "ours" and res.rc == 0 and rnd == 0:
                        res.extra["rows_check"] = rows_check(db, c.manifest)
                    if case == "ours" and rnd == self.args.rounds - 1 and res.rc == 0:
                        kept[c.label] = db
                    else:
                        shutil.rmtree(db.parent, ignore_errors=True)
        return kept

    # ------------------------------------------------------------ incremental
    def incremental(self, corpus: Corpus) -> None:
        src, label = corpus.path, corpus.label
        work = self.args.root / f"{label}_incr"
        shutil.rmtree(work, ignore_errors=True)
        subprocess.run(["cp", "-a", str(src), str(work)], check=True)
        inc = Corpus(label, work, corpus.manifest, corpus.file_list, corpus.n_files, corpus.bytes)
        db = self.fresh_db(f"{label}.incr")
        cmd = self.cmd("ours", inc, db)
        setup = self.run(label, "incr setup: full ingest", 0, cmd)
        if setup.rc != 0:
            self.notes.append("incremental cases skipped: the setup ingest failed")
            return
        candidates = [p for p in log_files(work) if last_step_line(p) is not None]
        rng = random.Random(self.args.seed)
        appended = 0
        for rep in range(self.args.incr_reps):
            r = self.run(label, "no-op re-ingest", rep, cmd)
            r.extra["check"] = expect_lines(r, 0)
            target = rng.choice(candidates)
            append_step(target, whole=True)
            appended += 1
            r = self.run(label, "append 1 line", rep, cmd)
            r.extra["check"] = expect_lines(r, 1)
            r.extra["file"] = str(target.relative_to(work))
        if self.args.torn_check:
            target = rng.choice(candidates)
            rest = append_step(target, whole=False)
            r = self.run(label, "append torn half-line", 0, cmd)
            r.extra["check"] = expect_lines(r, 0)
            with open(target, "ab") as fh:
                fh.write(rest)
            appended += 1
            r = self.run(label, "complete the torn line", 0, cmd)
            r.extra["check"] = expect_lines(r, 1)
        m = dict(corpus.manifest or {})
        if m.get("counts"):
            counts = dict(m["counts"])
            counts["steps"] += appended
            m["counts"] = counts
        setup.extra["final_rows_check"] = rows_check(db, m or None)
        if self.args.profile_on_fail:
            self.incr_db = db
            self.incr_corpus = inc
        else:
            shutil.rmtree(db.parent, ignore_errors=True)

    # ------------------------------------------------------------ profiles
    def profile(self, corpus: Corpus, name: str, db: Path | None = None) -> str:
        """One extra ingest under cProfile; returns the top of the report."""
        db = db or self.fresh_db(f"{corpus.label}.profile")
        prof = self.args.out / f"profile_{name}.prof"
        cmd = [
            str(self.args.python),
            "-m",
            "cProfile",
            "-o",
            str(prof),
            "-m",
            "warehouse",
            "ingest",
            str(corpus.path),
            "--db",
            str(db),
            "--json",
        ]
        start = time.perf_counter()
        subprocess.run(cmd, cwd=self.args.root, env=self.env, capture_output=True, check=False)
        wall = time.perf_counter() - start
        text = bench_report.profile_text(prof, wall)
        (self.args.out / f"profile_{name}.txt").write_text(text)
        return text


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    ap.add_argument(
        "--corpora",
        default="1gb,many,mixed-500mb,mixed-100mb,multirun,small-many",
        help="comma-separated presets (100mb, 1gb, many, 5gb, and the mixes of corpus_mix.py: "
        "mixed-500mb, mixed-100mb, multirun, small-many), generated under --root",
    )
    ap.add_argument(
        "--corpus",
        action="append",
        default=[],
        metavar="LABEL=PATH",
        help="an existing corpus directory (a preset label gets that preset's targets)",
    )
    ap.add_argument("--root", type=Path, default=Path("/tmp/bench"), help="corpora and scratch DBs")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--incr-corpus", default="many", help="label for the incremental cases, or 'none'")
    ap.add_argument("--incr-reps", type=int, default=5)
    ap.add_argument("--no-torn-check", dest="torn_check", action="store_false")
    ap.add_argument("--query-corpus", default="1gb", help="label whose DB gets the query check, or 'none'")
    ap.add_argument(
        "--cases",
        default="cat,floor,ours",
        help="of cat, floor, floor_narrow (floor_read_json.py's narrower map), ours",
    )
    ap.add_argument("--render-only", type=Path, metavar="JSON", help="rewrite --results-md from a saved run")
    ap.add_argument(
        "--floor-batch",
        type=int,
        default=2000,
        help="read_json floor: files per statement when a corpus has more files than "
        "this (one statement over 20,000 files runs out of memory); 0 = never",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gen-jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--python", type=Path, default=REPO / ".venv/bin/python")
    ap.add_argument("--warehouse", type=Path, default=REPO / ".venv/bin/warehouse")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--results-md", type=Path, default=HERE / "RESULTS.md")
    ap.add_argument("--no-results-md", dest="results_md", action="store_const", const=None)
    ap.add_argument(
        "--profile-on-fail",
        action="store_true",
        help="after the rounds, run one cProfile'd ingest for every failed target",
    )
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument(
        "--code-rev",
        help="measure the code committed at this git revision (extracted under --root and put first "
        "on PYTHONPATH) instead of the live working tree, which other engineers edit",
    )
    args = ap.parse_args(argv)
    args.root = args.root.resolve()
    args.out = args.out.resolve()
    args.python = args.python.absolute()
    args.warehouse = args.warehouse.absolute()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render_only:
        saved = json.loads(args.render_only.read_text())
        bench_render.write_markdown(args.results_md, saved["report"], saved["info"])
        return 0
    args.root.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y%m%d-%H%M%S")
    info = machine_info(REPO, str(args.python))
    info["command"] = " ".join([Path(sys.argv[0]).name] + (argv if argv is not None else sys.argv[1:]))
    corpora = [prepare_corpus(label, None, args) for label in args.corpora.split(",") if label]
    for spec in args.corpus:
        label, _, path = spec.partition("=")
        corpora.append(prepare_corpus(label, Path(path).resolve(), args))
    cases = [c for c in args.cases.split(",") if c]
    snapshot_code(args)
    info["code"] = f"git {args.code_rev} (extracted to {args.code_dir})" if args.code_dir else "working tree"
    bench = Bench(args)
    if "ours" in cases and not ingest_available(args, bench.env):
        cases.remove("ours")
        bench.notes.append(f"`{warehouse_cmd(args)} ingest` is not available: 'ours' was not measured")
    kept = bench.rounds(corpora, cases)
    by_label = {c.label: c for c in corpora}
    if "ours" in cases and args.incr_corpus in by_label:
        bench.incremental(by_label[args.incr_corpus])
    query = None
    if args.query_corpus in kept:
        query = bench_report.query_check(kept[args.query_corpus])
    report = bench_report.build(bench.results, corpora, info, query, bench.notes)
    info["loadavg_end"] = os.getloadavg()
    if args.profile_on_fail:
        report["profiles"] = {}
        for label in report["failed_corpora"]:
            if label in by_label:
                report["profiles"][label] = bench.profile(by_label[label], f"{label}_full")
        if report["failed_incremental"] and getattr(bench, "incr_db", None):
            report["profiles"]["no-op"] = bench.profile(bench.incr_corpus, "noop", bench.incr_db)
    for db in kept.values():
        shutil.rmtree(db.parent, ignore_errors=True)
    text = bench_render.render_text(report)
    print(text)
    payload = {"info": info, "report": report, "results": [r.as_dict() for r in bench.results]}
    for name in (f"bench_{started}.json", "latest.json"):
        (args.out / name).write_text(json.dumps(payload, indent=1, default=str) + "\n")
    if args.results_md:
        bench_render.write_markdown(args.results_md, report, info)
        print(f"[bench] wrote {args.results_md} and {args.out / 'latest.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
