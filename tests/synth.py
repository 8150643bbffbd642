"""Synthetic run logs with known truth, in the simulator's header/step shape (schema_version 2).

Every step's `credited` is drawn with a probability the test sets per model x dial setting, so the
views' estimates can be checked against the truth. Logs are consistent the way the simulator's are:
credited = correct and no blocking reason; coverage >= tau and witness_pass whenever credited.
"""

from __future__ import annotations

import itertools
import json
import random
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BASE_DIALS: dict[str, Any] = {
    "closed_book": True,
    "anonymize": True,
    "rich": False,
    "verify": False,
    "reflection_every": 0,
    "context_position": "pre",
    "self_consistency_n": 1,
    "reasoning": "none",
    "temp_answer": 0.3,
    "grammar": "json",
    "sc_extract_n": 0,
    "q_min": 1,
    "max_learn_boosts": 0,
    "citation_mode": "strict",
    "best_of_n": 0,
    "rerank": "none",
    "controller": "basic",
    "uncertainty_gate": False,
    "accumulate_notes": False,
    "use_tools": False,
    "tools": ["retriever"],
    "use_fact_cards": True,
    "fact_cards_budget": 10,
    "require_citations": True,
    "idk_enabled": False,
    "target_confidence": 0.75,
    "evidence_weighted_selection": False,
}
N_OPTIONS = 5


@dataclass(frozen=True)
class Design:
    """Truth: credited rate = base[model] + sum of effects[(model|*, dial, value)], clipped."""

    base: Mapping[str, float]
    grid: Mapping[str, tuple[Any, ...]]
    effects: Mapping[tuple[str, str, Any], float] = field(default_factory=dict)
    runs: int = 3  # runs per model x setting
    steps: int = 20  # steps per run
    runs_for: Mapping[tuple[str, tuple[tuple[str, Any], ...]], int] = field(default_factory=dict)
    tau: float = 0.4
    shared_items: bool = False  # common random numbers across models (paired designs)
    campaign: str = "synth"
    tokens: Mapping[str, int] = field(default_factory=dict)
    append_runs: bool = False  # all runs of a model x setting appended to one file

    def settings(self) -> list[tuple[tuple[str, Any], ...]]:
        names = sorted(self.grid)
        return [tuple(zip(names, combo)) for combo in itertools.product(*(self.grid[n] for n in names))]

    def rate(self, model: str, setting: tuple[tuple[str, Any], ...]) -> float:
        p = self.base[model]
        for dial, value in setting:
            p += self.effects.get((model, dial, value), 0.0) + self.effects.get(("*", dial, value), 0.0)
        return min(0.98, max(0.02, p))

    def n_runs(self, model: str, setting: tuple[tuple[str, Any], ...]) -> int:
        return self.runs_for.get((model, setting), self.runs)

    def step_tokens(self, model: str, setting: tuple[tuple[str, Any], ...]) -> int:
        d = dict(setting)
        scale = int(d.get("self_consistency_n", 1)) * (1 + int(d.get("fact_cards_budget", 10)) / 10)
        return int(self.tokens.get(model, 2000) * scale)


def item(index: int) -> tuple[str, list[str], int]:
    """A deterministic MCQ item: stem, options, gold index."""
    stem = f"Under rule R{index % 9} what does ZQ-{100 + index} become?"
    options = [f"Shift ZQ-{100 + index} by {k}" for k in range(N_OPTIONS)]
    return stem, options, index % N_OPTIONS


def header(
    run_id: str,
    ts: int,
    model: str,
    dials: Mapping[str, Any],
    steps: int,
    tau: float,
    *,
    v2: bool = True,
    provider: str = "synth",
    seed: int = 0,
) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "run_header": True,
        "run_id": run_id,
        "ts": ts,
        "config": {
            "skill_id": None,
            "task": "mcq",
            "num_steps": steps,
            "num_options": N_OPTIONS,
            "difficulty": "medium",
            "domain": "general",
            "dials": dict(dials),
        },
        "anonymization": {"seed": 1000 + seed, "vocab_size": 51},
        "guardrails": None,
    }
    if v2:
        rec = {
            "schema_version": 2,
            **rec,
            "student": {"type": "llm", "provider": provider, "model": model},
            "coverage_tau": tau,
            "runner": {"name": "runs-warehouse", "version": "synth", "git_commit": None, "argv": []},
            "plan": {"name": "synth", "stage": "test", "seed": seed},
        }
    return rec


def outcome(rng: random.Random, u: float, p: float, tau: float, gold: int) -> dict[str, Any]:
    """Evaluation block for one step: credited iff u < p."""
    if u < p:
        cov, chosen, witness, reasons = round(rng.uniform(tau, 1.0), 3), gold, True, []
    elif rng.random() < 0.5:  # right answer, evidence fails
        chosen = gold
        if rng.random() < 0.5:
            cov, witness, reasons = round(rng.uniform(0.0, tau * 0.99), 3), True, ["coverage_below_tau"]
        else:
            cov, witness, reasons = round(rng.uniform(tau, 1.0), 3), False, ["witness_mismatch"]
    else:  # wrong answer
        chosen, cov, witness = (gold + 1) % N_OPTIONS, round(rng.uniform(0.0, 1.0), 3), False
        reasons = (["coverage_below_tau"] if cov < tau else []) + ["witness_mismatch"]
    correct = chosen == gold
    return {
        "correct": correct,
        "chosen_index": chosen,
        "correct_index": gold,
        "abstained": False,
        "citations_evidence": {
            "coverage": cov,
            "witness_pass": witness,
            "credited": correct and not reasons,
            "reasons": reasons,
        },
    }


def step_record(
    rng: random.Random, run_id: str, i: int, ts: int, u: float, p: float, tau: float, tokens: int
) -> dict[str, Any]:
    stem, options, gold = item(i)
    ev = outcome(rng, u, p, tau, gold)
    tok = max(1, int(rng.gauss(tokens, tokens * 0.1)))
    prompt = int(tok * 0.8)
    return {
        "schema_version": 2,
        "run_id": run_id,
        "step": i,
        "ts": ts,
        "task": {"type": "mcq", "stem": stem, "options": options, "correct_index": gold},
        "presented_stem": f"QUESTION: {stem}",
        "answer": {"chosen_index": ev["chosen_index"], "votes": [ev["chosen_index"]], "citations": ["f1"]},
        "evaluation": ev,
        "duration_ms": tok // 2 + rng.randint(0, 500),
        "student_usage": {
            "calls": 2,
            "prompt_tokens": prompt,
            "completion_tokens": tok - prompt,
            "total_tokens": tok,
            "request_ms_sum": float(tok // 2),
        },
        "tutor_usage": {
            "calls": 1,
            "prompt_tokens": 200,
            "completion_tokens": 900,
            "total_tokens": 1100,
            "request_ms_sum": 5000.0,
        },
        "calls": [],
    }


def run_lines(
    rng: random.Random,
    design: Design,
    model: str,
    setting: tuple[tuple[str, Any], ...],
    rep: int,
    ts0: int,
    uniforms: list[float],
) -> Iterator[dict[str, Any]]:
    run_id = str(uuid.UUID(int=rng.getrandbits(128)))
    dials = {**BASE_DIALS, **dict(setting)}
    p, tokens = design.rate(model, setting), design.step_tokens(model, setting)
    yield header(run_id, ts0, model, dials, design.steps, design.tau, seed=rep)
    for i in range(design.steps):
        yield step_record(rng, run_id, i, ts0 + 10 * (i + 1), uniforms[i], p, design.tau, tokens)
    yield {
        "run_end": True,
        "schema_version": 2,
        "run_id": run_id,
        "ts": ts0 + 10 * (design.steps + 1),
        "status": "complete",
        "reason": None,
        "steps_logged": design.steps,
    }


def setting_name(setting: tuple[tuple[str, Any], ...]) -> str:
    return "_".join(f"{k}{v}" for k, v in setting) or "default"


def write_corpus(runs_dir: Path, design: Design, seed: int) -> dict[tuple[str, str], float]:
    """Write one file per run; return the truth {(model, setting_name): credited rate}."""
    rng = random.Random(seed)
    truth: dict[tuple[str, str], float] = {}
    ts = 1_760_000_000
    max_runs = max([design.runs, *design.runs_for.values()])
    shared = [[rng.random() for _ in range(design.steps)] for _ in range(max_runs)]
    for model in design.base:
        for setting in design.settings():
            truth[(model, setting_name(setting))] = design.rate(model, setting)
            for rep in range(design.n_runs(model, setting)):
                u = shared[rep] if design.shared_items else [rng.random() for _ in range(design.steps)]
                ts += 1000
                name = setting_name(setting) + ("" if design.append_runs else f"_r{rep}")
                path = runs_dir / design.campaign / model / f"{name}.jsonl"
                write_jsonl(
                    path, run_lines(rng, design, model, setting, rep, ts, u), append=design.append_runs
                )
    return truth


def write_jsonl(
    path: Path, records: Iterator[dict[str, Any]] | list[dict[str, Any]], append: bool = False
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a" if append else "w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec) + "\n")


def docs_design() -> Design:
    """The sweep behind docs/queries.md (seed 2026)."""
    r1, mixtral = "deepseek-ai/DeepSeek-R1", "mistralai/Mixtral-8x7B-Instruct-v0.1"
    return Design(
        base={"gpt-4.1": 0.62, mixtral: 0.48, r1: 0.52},
        grid={"fact_cards_budget": (6, 10), "self_consistency_n": (1, 3)},
        effects={(r1, "self_consistency_n", 3): 0.12, (mixtral, "fact_cards_budget", 10): 0.08},
        runs=6,
        steps=30,
        append_runs=True,
        campaign="sweep",
        tokens={"gpt-4.1": 1800, mixtral: 2600, r1: 5200},
    )


if __name__ == "__main__":  # python tests/synth.py RUNS_DIR: write the docs/queries.md corpus
    import sys

    write_corpus(Path(sys.argv[1]), docs_design(), 2026)
