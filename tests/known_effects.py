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
        default_factory=lambda: {(5, 1): 0.55, (5, 3): 0.55, (10, 1): 0.67, (10, 3): 0.67}
    )
    # models shift every base rate (logit scale); all share the item pool
    models: dict[str, float] = field(
        default_factory=lambda: {"known/alpha": 0.0, "known/beta": -0.4, "known/gamma": 0.4}
    )
    runs: int = 5
    steps: int = 24
    pool: int = 60
    sd_item: float = 0.8
    sd_run: float = 0.3
    tau: float = 0.4


# the bench's configurations: "thin" has fewer runs a setting, more run-to-run variation, a smaller
# item pool (items recur more) and longer runs
DESIGNS = {
    "default": KnownDesign(),
    "thin": KnownDesign(runs=3, steps=30, pool=40, sd_item=0.8, sd_run=0.6),
}


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def true_rate(base: float, sd_item: float, sd_run: float) -> float:
    x, w = np.polynomial.hermite_e.hermegauss(40)
    w = w / w.sum()
    sd = math.sqrt(sd_item**2 + sd_run**2)
    return float(np.sum(w / (1 + np.exp(-(_logit(base) + sd * x)))))


Key = tuple[str, int, int]
SETTINGS = ((5, 1), (5, 3), (10, 1), (10, 3))


def _shifted(base: float, shift: float) -> float:
    return 1 / (1 + math.exp(-(_logit(base) + shift)))


def write(root: Path, design: KnownDesign, seed: int) -> dict[Key, float]:
    """Write one corpus under root/runs; return the true rate per (model, budget, sc)."""
    rng = random.Random(seed)
    item_effect = [rng.gauss(0, design.sd_item) for _ in range(design.pool)]
    ts = 1_760_000_000 + seed * 100_000
    for model, shift in design.models.items():
        _write_model(root, design, rng, item_effect, model, shift, ts)
        ts += 10_000
    return {
        (m, *k): true_rate(_shifted(b, shift), design.sd_item, design.sd_run)
        for m, shift in design.models.items()
        for k, b in design.base.items()
    }


def _write_model(
    root: Path,
    design: KnownDesign,
    rng: random.Random,
    item_effect: list[float],
    model: str,
    shift: float,
    ts: int,
) -> None:
    for (budget, sc), base0 in design.base.items():
        base = _shifted(base0, shift)
        for rep in range(design.runs):
            run_id = str(uuid.UUID(int=rng.getrandbits(128)))
            dials = {**BASE_DIALS, "fact_cards_budget": budget, "self_consistency_n": sc}
            u_run = rng.gauss(0, design.sd_run)
            items = rng.sample(range(design.pool), design.steps)
            ts += 1000
            lines: list[dict[str, Any]] = [
                header(run_id, ts, model, dials, design.steps, design.tau, seed=rep)
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
            write_jsonl(
                root / "runs" / "known" / model.split("/")[1] / f"b{budget}_sc{sc}_r{rep}.jsonl", lines
            )


def build(root: Path, design: KnownDesign, seed: int) -> tuple[Path, dict[Key, float]]:
    truth = write(root, design, seed)
    db = root / "runs.duckdb"
    ingest_runs(str(root / "runs"), str(db))
    return db, truth


def score(db: Path, truth: dict[Key, float], margin: float = 0.03) -> dict[str, list[bool]]:
    """Per-seed checks: interval coverage (setting rates, dial effects), could-be-best,
    recommendation, null dial flagged."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        cols = [
            "model",
            "budget",
            "sc",
            "rate_low",
            "rate_high",
            "could_be_best",
            "is_recommended",
            "more_data_needed",
        ]
        got = con.execute(
            f"SELECT {', '.join(cols)} FROM best_settings_for(margin := ?)", [margin]
        ).fetchall()
        dials = con.execute(
            "SELECT model, dial, significant, diff_low, diff_high FROM dial_effects WHERE NOT is_ref"
        ).fetchall()
        pairs = con.execute("SELECT model_a, model_b, diff_low, diff_high FROM paired_models").fetchall()
    finally:
        con.close()
    rows = [dict(zip(cols, r, strict=True)) for r in got]
    out: dict[str, list[bool]] = {"covered": [], "best_in_set": [], "recommended_ok": [], "null_flagged": []}
    out |= {"proven_ok": [], "effect_covered": [], "compare_covered": []}
    for a, b, low, high in pairs:  # item-level paired difference of two models over all settings
        diff = sum(truth[(a, *k)] - truth[(b, *k)] for k in SETTINGS) / len(SETTINGS)
        out["compare_covered"].append(low <= diff <= high)
    for r in rows:
        out["covered"].append(
            r["rate_low"] <= truth[(r["model"], int(r["budget"]), int(r["sc"]))] <= r["rate_high"]
        )
    for model in {r["model"] for r in rows}:
        mine = [r for r in rows if r["model"] == model]
        true = {id(r): truth[(model, int(r["budget"]), int(r["sc"]))] for r in mine}
        best = max(true.values())
        out["best_in_set"].append(any(r["could_be_best"] and true[id(r)] >= best - 1e-12 for r in mine))
        for r in mine:
            if r["is_recommended"]:
                ok = true[id(r)] >= best - margin
                out["recommended_ok"].append(ok)
                if not r["more_data_needed"]:
                    out["proven_ok"].append(ok)
    for model, dial, significant, low, high in dials:
        if dial == "self_consistency_n":
            out["null_flagged"].append(bool(significant))
        elif dial == "fact_cards_budget":
            effect = truth[(model, 10, 1)] - truth[(model, 5, 1)]
            out["effect_covered"].append(low <= effect <= high)
    return out


def run_seeds(base: Path, seeds: list[int], design: KnownDesign | None = None) -> dict[str, float]:
    design = design or KnownDesign()
    total: dict[str, list[bool]] = {}
    for seed in seeds:
        db, truth = build(base / f"seed{seed}", design, seed)
        for key, values in score(db, truth).items():
            total.setdefault(key, []).extend(values)
    got = {k: sum(v) / len(v) if v else float("nan") for k, v in total.items()}
    return got | {f"n_{k}": float(len(v)) for k, v in total.items()}


__all__ = ["DESIGNS", "KnownDesign", "build", "run_seeds", "score", "true_rate", "write"]
