"""Known-effects corpora with item and run heterogeneity, in the real log format.

Truth per model x setting is a base rate; each step's success probability is
logistic(logit(base) + item effect + run effect), item effects shared by every run that meets
the item (items recur across runs, settings and models), run effects one per run. The true rate
of a setting is the expectation over both (Gauss-Hermite). Logs are written with tests/synth.py's
record writers and ingested like any other runs tree.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from synth import BASE_DIALS, header, step_record, write_jsonl

from ingest import ingest_runs


@dataclass(frozen=True)
class KnownDesign:
    # (budget, sc) -> base rate; sc is a null dial, budget a real one, budget 10 costs more tokens
    base: dict[tuple[int, int], float] = field(
        default_factory=lambda: {(5, 1): 0.55, (5, 3): 0.55, (10, 1): 0.66, (10, 3): 0.66}
    )
    model: str = "known/model"
    runs: int = 4
    steps: int = 20
    pool: int = 60
    sd_item: float = 0.8
    sd_run: float = 0.3
    tau: float = 0.4


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def true_rate(base: float, sd_item: float, sd_run: float) -> float:
    x, w = np.polynomial.hermite_e.hermegauss(40)
    w = w / w.sum()
    sd = math.sqrt(sd_item**2 + sd_run**2)
    return float(np.sum(w / (1 + np.exp(-(_logit(base) + sd * x)))))


def write(root: Path, design: KnownDesign, seed: int) -> dict[tuple[int, int], float]:
    """Write one corpus under root/runs; return the true rate per (budget, sc)."""
    rng = random.Random(seed)
    item_effect = [rng.gauss(0, design.sd_item) for _ in range(design.pool)]
    ts = 1_760_000_000 + seed * 100_000
    for (budget, sc), base in design.base.items():
        for rep in range(design.runs):
            run_id = str(uuid.UUID(int=rng.getrandbits(128)))
            dials = {**BASE_DIALS, "fact_cards_budget": budget, "self_consistency_n": sc}
            u_run = rng.gauss(0, design.sd_run)
            items = rng.sample(range(design.pool), design.steps)
            ts += 1000
            lines: list[dict[str, Any]] = [
                header(run_id, ts, design.model, dials, design.steps, design.tau, seed=rep)
            ]
            for i, idx in enumerate(items):
                p = 1 / (1 + math.exp(-(_logit(base) + item_effect[idx] + u_run)))
                rec = step_record(
                    rng, run_id, idx, ts + 10 * (i + 1), rng.random(), p, design.tau, 300 + 40 * budget
                )
                rec["step"] = i
                lines.append(rec)
            lines.append(
                {
                    "run_end": True,
                    "schema_version": 2,
                    "run_id": run_id,
                    "ts": ts + 10 * (design.steps + 1),
                    "status": "complete",
                    "reason": None,
                    "steps_logged": design.steps,
                }
            )
            write_jsonl(root / "runs" / "known" / f"b{budget}_sc{sc}_r{rep}.jsonl", lines)
    return {k: true_rate(b, design.sd_item, design.sd_run) for k, b in design.base.items()}


def build(root: Path, design: KnownDesign, seed: int) -> tuple[Path, dict[tuple[int, int], float]]:
    truth = write(root, design, seed)
    db = root / "runs.duckdb"
    ingest_runs(str(root / "runs"), str(db))
    return db, truth


def score(db: Path, truth: dict[tuple[int, int], float], margin: float = 0.03) -> dict[str, list[bool]]:
    """Per-seed checks: interval coverage, could-be-best, recommendation, null dial flagged."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        cols = ["budget", "sc", "rate_low", "rate_high", "could_be_best", "is_recommended"]
        got = con.execute(
            f"SELECT {', '.join(cols)} FROM best_settings_for(margin := ?)", [margin]
        ).fetchall()
        dial = con.execute(
            "SELECT significant FROM dial_effects WHERE dial = 'self_consistency_n' AND NOT is_ref"
        ).fetchall()
    finally:
        con.close()
    best = max(truth.values())
    rows = [dict(zip(cols, r, strict=True)) for r in got]
    covered = [r["rate_low"] <= truth[(int(r["budget"]), int(r["sc"]))] <= r["rate_high"] for r in rows]
    best_in = any(
        r["could_be_best"] and truth[(int(r["budget"]), int(r["sc"]))] >= best - 1e-12 for r in rows
    )
    rec_ok = all(
        truth[(int(r["budget"]), int(r["sc"]))] >= best - margin for r in rows if r["is_recommended"]
    )
    return {
        "covered": covered,
        "best_in_set": [best_in],
        "recommended_ok": [rec_ok],
        "null_flagged": [bool(d[0]) for d in dial],
    }


def run_seeds(base: Path, seeds: list[int], design: KnownDesign | None = None) -> dict[str, float]:
    design = design or KnownDesign()
    total: dict[str, list[bool]] = {}
    for seed in seeds:
        db, truth = build(base / f"seed{seed}", design, seed)
        for key, values in score(db, truth).items():
            total.setdefault(key, []).extend(values)
    return {k: sum(v) / len(v) for k, v in total.items()} | {"n_intervals": float(len(total["covered"]))}


__all__ = ["KnownDesign", "build", "run_seeds", "score", "true_rate", "write"]
