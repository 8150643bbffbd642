"""A small fixture corpus with known truth, for the export and report tests.

Two models, two dials (fact_cards_budget 6/12, self_consistency_n 1/3), 3 runs per setting,
STEPS steps per run:
  * model-a: credited rate 0.30 at sc=1 and 0.75 at sc=3 (a strong, real effect), and the budget
    has exactly no effect (the budget-6 and budget-12 runs get the same outcome sequence);
  * model-b: credited 0.20 everywhere (a clear gap to model-a); neither dial has any effect.
Credited implies witness; some steps pass witness without credit (so witness -> credited shows).
Plus data-health cases: a quarantined line, an incomplete run, a run without a model, a new key.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path
from typing import Any

STEPS = 20
RUNS_PER_SETTING = 3
MODELS = {"model-a": "alpha", "model-b": "beta"}
TRUTH = {"model-a": {1: 0.30, 3: 0.75}, "model-b": {1: 0.20, 3: 0.20}}


def _dials(budget: int, sc: int) -> dict[str, Any]:
    return {
        "closed_book": True,
        "use_fact_cards": True,
        "require_citations": True,
        "fact_cards_budget": budget,
        "self_consistency_n": sc,
        "idk_enabled": False,
        "best_of_n": 1,
        "use_tools": False,
    }


def _header(
    run_id: str, model: str | None, budget: int, sc: int, ts: int, steps: int = STEPS, seed: int = 424242
) -> dict[str, Any]:
    head: dict[str, Any] = {
        "run_header": True,
        "run_id": run_id,
        "ts": ts,
        "config": {
            "task": "mcq",
            "num_steps": steps,
            "num_options": 4,
            "difficulty": "medium",
            "domain": "general",
            "dials": _dials(budget, sc),
        },
        "anonymization": {"seed": seed, "vocab_size": 50},
    }
    if model is not None:
        head.update(
            {
                "schema_version": 2,
                "coverage_tau": 0.3,
                "plan": None,
                "student": {"type": "llm", "provider": MODELS[model], "model": model},
                "runner": {"name": "runs-warehouse", "version": "test", "git_commit": None, "argv": []},
            }
        )
    return head


def _step(
    run_id: str, s: int, ts: int, credited: bool, witness: bool, sc: int, budget: int
) -> dict[str, Any]:
    correct_index = s % 4
    correct = credited or (witness and s % 3 == 0)
    chosen = correct_index if correct else (correct_index + 1) % 4
    tokens = 800 * sc + 40 * budget + s
    return {
        "run_id": run_id,
        "step": s,
        "ts": ts + s,
        "task": {
            "type": "mcq",
            "stem": f"Which option fits item {s}?",
            "options": [f"option {i} of {s}" for i in range(4)],
            "correct_index": correct_index,
        },
        "answer": {"chosen_index": chosen, "votes": [chosen] * sc, "citations": ["f1"]},
        "evaluation": {
            "correct": correct,
            "chosen_index": chosen,
            "correct_index": correct_index,
            "abstained": False,
            "citations_evidence": {
                "coverage": 0.9 if credited else 0.1,
                "witness_pass": witness,
                "credited": credited,
                "reasons": [] if credited else ["witness_mismatch"],
            },
        },
        "duration_ms": 1500.0 * sc + 10 * budget,
        "student_usage": {
            "calls": sc,
            "prompt_tokens": tokens - 100,
            "completion_tokens": 100,
            "total_tokens": tokens,
        },
        "tutor_usage": {"calls": 1, "prompt_tokens": 50, "completion_tokens": 50, "total_tokens": 100},
    }


def _outcomes(model: str, sc: int, rep: int) -> list[tuple[bool, bool]]:
    """(credited, witness) per step. The seed ignores the budget (and, for model-b whose truth
    does not depend on sc, also sc), so those arms get identical outcomes: an exact null."""
    rng = random.Random(f"{model}/{sc}/{rep}" if model == "model-a" else f"{model}/{rep}")
    p = TRUTH[model][sc]
    out = []
    for _ in range(STEPS):
        credited = rng.random() < p
        witness = credited or rng.random() < 0.25
        out.append((credited, witness))
    return out


def _write(path: Path, records: list[dict[str, Any]], age_s: float, tail: bytes = b"") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in records) + tail)
    old = time.time() - age_s
    os.utime(path, (old, old))


def write_corpus(runs: Path) -> dict[str, Any]:
    """Write the corpus under `runs`; returns counts the tests check against."""
    n_runs = 0
    base_ts = 1_757_000_000
    for model in MODELS:
        for budget in (6, 12):
            for sc in (1, 3):
                for rep in range(RUNS_PER_SETTING):
                    run_id = f"{model}-b{budget}-sc{sc}-r{rep}"
                    ts = base_ts + 1000 * n_runs
                    # each repeat its own seed, as the launch scripts do: the same seed, setting and
                    # items would make it a re-run of the same work (runs.duplicate_of)
                    recs = [_header(run_id, model, budget, sc, ts, seed=424242 + rep)]
                    for s, (cr, wi) in enumerate(_outcomes(model, sc, rep)):
                        recs.append(_step(run_id, s, ts, cr, wi, sc, budget))
                    recs.append(
                        {
                            "run_end": True,
                            "schema_version": 2,
                            "run_id": run_id,
                            "ts": ts + STEPS,
                            "status": "complete",
                            "reason": None,
                            "steps_logged": STEPS,
                        }
                    )
                    _write(runs / "suite" / model / f"{run_id}.jsonl", recs, 7200)
                    n_runs += 1
    # data health: incomplete run (no run_end, fewer steps) with a quarantined line
    inc = [_header("model-b-incomplete", "model-b", 6, 1, base_ts + 999_000)]
    inc += [_step("model-b-incomplete", s, base_ts + 999_000, False, False, 1, 6) for s in range(3)]
    _write(runs / "suite" / "model-b" / "incomplete.jsonl", inc, 7200, b'{"step": 3, "torn\n')
    # a run no rule or header gives a model, with a never-seen top-level key (schema drift)
    anon = [_header("nomodel-run", None, 6, 1, base_ts + 998_000, steps=4)]
    anon += [
        {**_step("nomodel-run", s, base_ts + 998_000, False, False, 1, 6), "shiny_new_key": 1}
        for s in range(4)
    ]
    anon.append({"run_end": True, "run_id": "nomodel-run", "status": "complete", "steps_logged": 4})
    _write(runs / "misc" / "mystery.jsonl", anon, 7200)
    return {"complete_runs": n_runs, "steps": n_runs * STEPS + 3 + 4, "quarantined": 1}
