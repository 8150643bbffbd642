#!/usr/bin/env python3
"""Deterministic corpus generator for ingest benchmarks (stdlib only).

Writes JSONL run logs shaped like the ICL simulator's (a run header with all 58 dials,
MCQ steps of roughly 1-5 KB with task/options, presented_stem, answer with
votes/citations/witness, evaluation with evidence_report and citations_evidence, fact cards,
usage blocks, duration_ms, sometimes tool_outputs, messages and guardrail_alerts), laid out like
the old launch scripts: scattergun_phase2/<stage>/<model>_seed<S>_N<steps>.jsonl,
sweepNNN/exp/deepinfra_<model>_sc3_b8.jsonl, guardrailed/<model>_stateNNN.jsonl,
compare/<provider>_<model>/batch_<i>.jsonl, a few informal names, a few old-era files (headers
without the later dials) and a few schema_version 2 files written by our runner (docs/CONTRIBUTING.md).

Same --seed and sizing options give byte-identical files whatever --jobs is: each file's content
comes only from (seed, file index). Ground truth (line counts per kind, defects injected) goes to
<out>/_catalog/gen_manifest.json (ingest skips _catalog/).

Presets (put big corpora under /tmp/bench, never in the repo):
  --preset 100mb   ~162 files x 160 steps      (~100 MB)
  --preset 1gb     ~1,620 files x 160 steps    (~1 GB, ~270k steps; ~45 s with --jobs 2)
  --preset many    20,000 files x 5 steps      (~415 MB, ~21 KB/file)
  --preset 5gb     ~8,100 files x 160 steps    (~5 GB; needs 5 GB of disk and ~4 min on 2 cores)
Mixes (corpus_mix.py: file sizes drawn around a median with a long tail, several runs appended
per file, glued and torn lines, some .gz, old eras):
  --preset mixed-500mb  1,168 files, median ~180 KB, six of 30-36 MB   (~500 MB)
  --preset mixed-100mb  290 files, median ~180 KB, one of ~25 MB       (~100 MB)
  --preset multirun     160 files of 4-12 runs, median ~1.2 MB, two of 30-36 MB (~300 MB)
  --preset small-many   5,000 files of 1-2 runs, median ~30 KB          (~190 MB)

Examples:
  python3 benchmarks/gen_corpus.py /tmp/bench/c1g --preset 1gb --jobs 2
  python3 benchmarks/gen_corpus.py /tmp/bench/dirty --files 300 --steps 20 --dirty-frac 0.3 --seed 7
  python3 benchmarks/gen_corpus.py /tmp/bench/c200 --size-mb 200 --steps 160
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import random
import shutil
import sys
import time
from collections import Counter
from multiprocessing import Pool
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_layout import plan_file, side_files
from corpus_mix import MIXES, plan_mix
from corpus_shapes import RunSpec, header_record, run_end_record
from corpus_steps import step_record

PRESETS: dict[str, dict[str, int]] = {
    "100mb": {"size_mb": 100, "steps": 160},
    "1gb": {"size_mb": 1000, "steps": 160},
    "many": {"files": 20000, "steps": 5},
    "5gb": {"size_mb": 5000, "steps": 160},
}
# Calibrated on seed 0: mean bytes of a step line, the share of extra steps from aborted runs
# that were re-run into the same file, and the per-file header bytes.
AVG_STEP_BYTES = 3700
RERUN_FACTOR = 1.04
AVG_FILE_OVERHEAD = 2400
MANIFEST = Path("_catalog") / "gen_manifest.json"


def build_file(
    i: int, seed: int, steps: int, dirty_frac: float, mix: str | None = None
) -> tuple[str, bytes, Counter[str]]:
    """The path and bytes (gzipped for a .gz) of file i plus its ground-truth counts."""
    rng = random.Random(f"{seed}:{i}")
    plan = plan_mix(MIXES[mix], i, random.Random(f"{seed}:{i}:mix"), AVG_STEP_BYTES) if mix else None
    relpath, spec = plan_file(i, plan.steps if plan else steps, rng, legacy=bool(plan and plan.legacy))
    spec.finalize(rng)
    ts = 1757000000 + (seed % 1000) * 86400 + i * 977
    if plan is None:
        defect = _pick_defect(rng, dirty_frac, spec.era != "v0" and steps >= 2)
        runs = _run_plan(rng, steps, two_runs=defect == "glued")
        glued = set(range(1, len(runs))) if defect == "glued" else set()
    else:
        defect, runs, glued = ("torn" if plan.torn else None), plan.runs, plan.glued
    lines = _run_lines(spec, runs, glued if spec.era != "v0" else set(), ts, rng)
    if defect == "garbage" and len(lines) > 2:
        at = rng.randint(1, len(lines) - 1)
        bad = rng.choice(
            (
                b"Traceback (most recent call last):\n",
                b'{"run_id": "x", "step": 3, "duration_ms": NaN}\n',
                b'{"step": 4, "task": "\xff\xfe bad utf-8"}\n',
                b"[1, 2, 3]\n",
            )
        )
        lines[at:at] = [("bad", bad), ("blank", b"\n")]
    if defect == "torn" and lines:
        _, last = lines.pop()
        lines.append(("torn", last[: rng.randint(1, max(1, len(last) - 2))]))
    kinds = Counter(kind for kind, _ in lines)
    stats: Counter[str] = Counter(
        files=1,
        headers=kinds["header"],
        steps=kinds["step"],
        run_ends=kinds["run_end"],
        bad_lines=kinds["bad"],
        blank_lines=kinds["blank"],
        torn_tails=kinds["torn"],
        glued=sum(1 for kind, data in lines if kind == "bad" and b"run_header" in data),
        runs=len(runs),
        valid_lines=kinds["header"] + kinds["step"] + kinds["run_end"],
        complete_lines=len(lines) - kinds["torn"],
    )
    data = b"".join(data for _, data in lines)
    if plan is not None and plan.gz:
        stats["gz_files"] = 1
        return relpath + ".gz", gzip.compress(data, compresslevel=6, mtime=0), stats
    return relpath, data, stats


def _run_lines(
    spec: RunSpec, runs: list[int], glued: set[int], ts: int, rng: random.Random
) -> list[tuple[str, bytes]]:
    """(kind, line bytes incl. newline) of the runs appended to one file; a run in `glued` was
    started after a killed writer left a partial line, and its header is glued onto that line."""
    lines: list[tuple[str, bytes]] = []
    for r, n_steps in enumerate(runs):
        run_id = _uuid(rng) if spec.era != "v0" else None
        if spec.era != "v0":
            header = _dump(header_record(spec, run_id, ts, rng)) + b"\n"
            if r in glued and lines:
                _, prev = lines.pop()
                lines.append(("bad", prev[: len(prev) // 2] + header))
            else:
                lines.append(("header", header))
        cards: list[dict[str, Any]] = []
        for s in range(n_steps):
            ts += rng.randint(20, 180)
            rec, cards = step_record(spec, run_id, s, ts, cards, rng)
            lines.append(("step", _dump(rec) + b"\n"))
        if spec.schema_version == 2 and n_steps == spec.steps:
            lines.append(("run_end", _dump(run_end_record(run_id, ts + 1, n_steps)) + b"\n"))
    return lines


def _run_plan(rng: random.Random, steps: int, two_runs: bool = False) -> list[int]:
    """Steps per run in one file: usually one complete run, sometimes an aborted run first."""
    roll = 0.05 if two_runs else rng.random()
    if roll < 0.02:
        return [0, steps]  # header-only run (step 0 raised), then a re-run
    if roll < 0.10 and steps >= 2:
        return [rng.randint(1, steps - 1), steps]
    return [steps]


def _pick_defect(rng: random.Random, dirty_frac: float, can_glue: bool) -> str | None:
    if dirty_frac <= 0 or rng.random() >= dirty_frac:
        return None
    kinds = ["torn", "garbage"] + (["glued"] if can_glue else [])
    return rng.choice(kinds)


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:32]}"


def _dump(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def _work(args: tuple[str, list[int], int, int, float, str | None]) -> Counter[str]:
    out, indices, seed, steps, dirty, mix = args
    total: Counter[str] = Counter()
    root = Path(out)
    for i in indices:
        relpath, data, stats = build_file(i, seed, steps, dirty, mix)
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        for side, content in side_files(i, relpath):
            (root / side).write_bytes(content)
        stats["bytes"] = len(data)
        total.update(stats)
    return total


def files_for_size(size_mb: float, steps: int) -> int:
    per_file = steps * AVG_STEP_BYTES * RERUN_FACTOR + AVG_FILE_OVERHEAD
    return max(1, math.ceil(size_mb * 1e6 / per_file))


def resolve(
    preset: str | None, files: int | None = None, steps: int | None = None, size_mb: float | None = None
) -> tuple[int, int]:
    """(files, steps) from a preset and/or explicit options (explicit options win). A mix preset
    (corpus_mix.py) draws each file's steps: steps is 0."""
    if preset in MIXES:
        return files or MIXES[preset].files, 0
    base = PRESETS.get(preset or "", {})
    steps = steps or base.get("steps", 160)
    size = size_mb or base.get("size_mb")
    if files:
        return files, steps
    if size:
        return files_for_size(size, steps), steps
    return base.get("files", 0), steps


def generate(
    out: Path,
    files: int,
    steps: int,
    seed: int = 0,
    jobs: int = 1,
    dirty_frac: float = 0.0,
    preset: str | None = None,
) -> dict[str, Any]:
    """Write the corpus (replacing `out`) and return its manifest. A mix preset (corpus_mix.py)
    draws each file's size, runs and defects; `steps` is then unused."""
    mix = preset if preset in MIXES else None
    start = time.perf_counter()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    chunk = max(1, min(500, files // max(1, jobs * 8)))
    tasks = [
        (str(out), list(range(a, min(files, a + chunk))), seed, steps, dirty_frac, mix)
        for a in range(0, files, chunk)
    ]
    total: Counter[str] = Counter()
    if jobs > 1:
        with Pool(jobs) as pool:
            for part in pool.imap_unordered(_work, tasks):
                total.update(part)
    else:
        for task in tasks:
            total.update(_work(task))
    manifest = {
        "generator": "benchmarks/gen_corpus.py",
        "preset": preset,
        "files": files,
        "steps": steps,
        "seed": seed,
        "dirty_frac": dirty_frac,
        "mix": mix,
        "counts": {
            k: total.get(k, 0)
            for k in (
                "files",
                "bytes",
                "runs",
                "headers",
                "steps",
                "run_ends",
                "valid_lines",
                "bad_lines",
                "blank_lines",
                "torn_tails",
                "glued",
                "gz_files",
                "complete_lines",
            )
        },
        "seconds": round(time.perf_counter() - start, 2),
    }
    (out / MANIFEST).parent.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def read_manifest(out: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads((out / MANIFEST).read_text())
        return data
    except (OSError, ValueError):
        return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    ap.add_argument("out", type=Path, help="output directory (replaced)")
    ap.add_argument("--preset", choices=sorted([*PRESETS, *MIXES]))
    ap.add_argument("--files", type=int, help="number of log files")
    ap.add_argument("--steps", type=int, help="steps per run (the file name's N)")
    ap.add_argument("--size-mb", type=float, help="target size: derives --files from --steps")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument(
        "--dirty-frac",
        type=float,
        default=0.0,
        help="fraction of files with one defect: torn tail, glued torn line + header, "
        "or a mid-file garbage line followed by a blank line",
    )
    args = ap.parse_args(argv)
    files, steps = resolve(args.preset, args.files, args.steps, args.size_mb)
    if files <= 0:
        ap.error("give --preset, --files or --size-mb")
    m = generate(args.out, files, steps, args.seed, args.jobs, args.dirty_frac, args.preset)
    c = m["counts"]
    print(
        f"wrote {c['files']} files, {c['bytes'] / 1e6:.1f} MB, {c['runs']} runs, {c['steps']} steps, "
        f"{c['bad_lines']} bad lines, {c['torn_tails']} torn tails in {m['seconds']} s -> {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
