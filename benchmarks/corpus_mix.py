"""Corpus shapes ("mixes") for the ingest benchmark: how big each file is and what it holds (stdlib only).

The uniform presets (every file N steps, one run) hid where the ingest is slow. A mix draws, per
file and from (seed, file index) only, so any --jobs gives the same bytes:
  - its size: lognormal around a median (many small files, a long tail), plus a few big files
    (a long sweep appended to one log);
  - how many runs were appended to it, each run's share of the steps;
  - whether an aborted run left a partial line that the next run's header was glued onto;
  - whether its last run is still writing (a torn tail: no newline yet);
  - whether it was gzipped when archived (never with a torn tail: a .gz is finished);
  - whether it is an old-era log (no header, or a header with 11 dials).
Used by gen_corpus.py.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Mix:
    files: int
    median_kb: float  # median file size
    sigma: float  # spread of log(size)
    big_files: int = 0  # this many files of big_mb (spread evenly over the indices)
    big_mb: tuple[float, float] = (30.0, 36.0)
    runs: tuple[int, int] = (1, 1)  # runs appended per file, uniform in this range
    glued_frac: float = 0.0  # share of later runs whose header is glued after a torn line
    torn_frac: float = 0.0  # share of files whose last line is still being written
    gz_frac: float = 0.0  # share of (untorn) files that are .jsonl.gz
    legacy_frac: float = 0.0  # share of files of an old era (v0: no header, v1: 11 dials)


MIXES: dict[str, Mix] = {
    # The corpus: 500 MB, 1,168 files, median 180 KB, largest 33 MB, runs appended.
    "mixed-500mb": Mix(
        1168, 180, 0.85, big_files=6, runs=(1, 5), glued_frac=0.05, torn_frac=0.05, gz_frac=0.04,
        legacy_frac=0.06,
    ),
    "mixed-100mb": Mix(
        290, 180, 0.85, big_files=1, big_mb=(24.0, 26.0), runs=(1, 5), glued_frac=0.05,
        torn_frac=0.05, gz_frac=0.04, legacy_frac=0.06,
    ),
    # Long logs that many runs were appended to (a resumed sweep), a few killed mid-line.
    "multirun": Mix(
        160, 1200, 0.6, big_files=2, runs=(4, 12), glued_frac=0.1, torn_frac=0.08, gz_frac=0.03,
        legacy_frac=0.03,
    ),
    # Thousands of short logs (smoke runs, one or two runs each).
    "small-many": Mix(
        5000, 30, 0.7, runs=(1, 2), glued_frac=0.03, torn_frac=0.04, gz_frac=0.05, legacy_frac=0.05,
    ),
}  # fmt: skip


@dataclass
class FilePlan:
    """What one file of a mix holds."""

    steps: int  # the file name's N (steps a complete run has)
    runs: list[int] = field(default_factory=list)  # steps logged per run, in order
    glued: set[int] = field(default_factory=set)  # runs (> 0) whose header follows a torn line
    torn: bool = False
    gz: bool = False
    legacy: bool = False


def plan_mix(mix: Mix, i: int, rng: random.Random, step_bytes: float) -> FilePlan:
    """Draw file i's plan (uses its own random stream: the content's draws are unaffected)."""
    big = _is_big(mix, i)
    if big:
        target = rng.uniform(*mix.big_mb) * 1e6
    else:
        target = mix.median_kb * 1e3 * math.exp(rng.gauss(0.0, mix.sigma))
    total = max(1, round(target / step_bytes))
    n_runs = min(total, rng.randint(*mix.runs))
    cuts = sorted(rng.sample(range(1, total), n_runs - 1)) if n_runs > 1 else []
    runs = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    plan = FilePlan(steps=max(runs), runs=runs)
    plan.glued = {r for r in range(1, len(runs)) if rng.random() < mix.glued_frac}
    plan.torn = rng.random() < mix.torn_frac
    plan.gz = rng.random() < mix.gz_frac and not (plan.torn or big)  # .gz: finished, archived
    plan.legacy = rng.random() < mix.legacy_frac
    return plan


def _is_big(mix: Mix, i: int) -> bool:
    if not mix.big_files:
        return False
    stride = max(1, mix.files // mix.big_files)
    return i % stride == stride // 2 and i // stride < mix.big_files
