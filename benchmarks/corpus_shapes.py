"""Record shapes for the benchmark corpus (headers, MCQ and other steps, old eras; stdlib only).

Values are invented; key sets and key order follow the format spec. Used by gen_corpus.py. This
module holds a file's run settings (RunSpec), the run header with its 58 dials and the run_end
line; the step lines are built by corpus_steps.py.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

# The 58 dial names of a run header, in the simulator's serialization order (the log-format contract).
from warehouse.core.logformat import DIAL_NAMES

assert len(DIAL_NAMES) == 58
OLD_DIALS = (
    "closed_book",
    "anonymize",
    "rich",
    "verify",
    "reflection_every",
    "context_position",
    "self_consistency_n",
    "accumulate_notes",
    "rare_emphasis",
    "use_tools",
    "tools",
)


@dataclass
class RunSpec:
    """Settings of the runs in one file (what the launch script would have passed)."""

    steps: int
    model: str = "mistralai/Mixtral-8x7B-Instruct-v0.1"
    provider: str = "deepinfra"
    student: str = "stateful-llm"
    sc: int = 1
    sc_extract: int = 0
    best_of: int = 0
    budget: int = 10
    boosts: int = 0
    q_min: int = 1
    idk: bool = False
    target_conf: float = 0.75
    rerank: str = "none"
    tools: list[str] = field(default_factory=list)
    guardrails: str | None = None
    anon_seed: int | None = None
    era: str | None = None  # None (current) | v0 (no header) | v1 (11 dials)
    schema_version: int | None = None
    plan: str | None = None
    # decided by finalize()
    messages: bool = False
    fact_cards: bool = True
    ews: bool = False
    anonymize: bool = True
    tau: float = 0.35

    def update(self, **kw: Any) -> None:
        for key, value in kw.items():
            if not hasattr(self, key):
                raise KeyError(key)
            setattr(self, key, value)

    def finalize(self, rng: random.Random) -> None:
        self.messages = rng.random() < 0.4
        self.fact_cards = self.era is None and rng.random() < 0.95
        self.ews = self.fact_cards and rng.random() < 0.1
        self.anonymize = rng.random() < 0.9
        self.tau = rng.choice((0.25, 0.3, 0.35, 0.4))
        if self.anon_seed is None:
            self.anon_seed = rng.randint(1, 2**31 - 2)


def dials(spec: RunSpec) -> dict[str, Any]:
    """All 58 dials, the way the guardrailed / scattergun recipes would log them."""
    tools = spec.tools or ["retriever"]
    values: dict[str, Any] = {
        "closed_book": True,
        "anonymize": spec.anonymize,
        "rich": spec.guardrails is not None,
        "verify": False,
        "reflection_every": 0,
        "context_position": "pre",
        "self_consistency_n": spec.sc,
        "adaptive_sc": False,
        "sc_quorum": 0,
        "reasoning": "none",
        "temp_answer": 0.3,
        "temp_sc": 0.7,
        "top_p": 1.0,
        "min_p": None,
        "grammar": "json",
        "sc_extract_n": spec.sc_extract,
        "q_min": spec.q_min,
        "max_learn_boosts": spec.boosts,
        "mmr_lambda": 0.4,
        "span_window": 240,
        "citation_mode": "strict",
        "min_sources_chosen": 2,
        "dedup_sim": 0.88,
        "sc_policy": "fixed",
        "sc_k_easy": 3,
        "sc_k_medium": 5,
        "sc_k_hard": 7,
        "best_of_n": spec.best_of,
        "rerank": spec.rerank,
        "reflexion": False,
        "compress_examples": False,
        "compress_ratio": 3.0,
        "controller": "basic",
        "controller_budget": 6,
        "tot_width": 2,
        "tot_depth": 2,
        "tot_judge": "self",
        "uncertainty_gate": False,
        "conf_threshold": 0.45,
        "entropy_threshold": 0.9,
        "max_k_escalated": 12,
        "escalate_reasoning": False,
        "instruction_header": None,
        "accumulate_notes": False,
        "rare_emphasis": False,
        "use_tools": bool(spec.tools),
        "tools": tools,
        "use_fact_cards": spec.fact_cards,
        "fact_cards_budget": spec.budget,
        "require_citations": True,
        "freeze_cards": False,
        "idk_enabled": spec.idk,
        "target_confidence": spec.target_conf,
        "min_cqs": 0.0,
        "min_card_len": 40,
        "max_card_len": 300,
        "per_option_top_k": 3,
        "evidence_weighted_selection": spec.ews,
    }
    names = OLD_DIALS if spec.era == "v1" else DIAL_NAMES
    return {name: values[name] for name in names}


def header_record(spec: RunSpec, run_id: str | None, ts: int, rng: random.Random) -> dict[str, Any]:
    rec: dict[str, Any] = {"run_header": True}
    if spec.schema_version:
        rec["schema_version"] = spec.schema_version
    rec.update(run_id=run_id, ts=ts)
    rec["config"] = {
        "skill_id": None,
        "task": "mcq",
        "num_steps": spec.steps,
        "num_options": 5,
        "difficulty": "medium",
        "domain": "psych" if spec.era == "v1" else "general",
        "dials": dials(spec),
    }
    rec["anonymization"] = (
        {"seed": spec.anon_seed, "vocab_size": 58 if spec.era else 51} if spec.anonymize else None
    )
    if spec.era is None:
        rec["guardrails"] = _guardrails(spec)
    if spec.schema_version:
        rec["student"] = {"type": "llm", "provider": spec.provider, "model": spec.model}
        rec["coverage_tau"] = spec.tau
        rec["runner"] = {
            "name": "runs-warehouse",
            "version": "0.1.0",
            "git_commit": None,
            "argv": ["warehouse", "run", "--plan", spec.plan or "adhoc"],
        }
        rec["plan"] = {"name": spec.plan, "stage": "main", "seed": spec.anon_seed}
    return rec


def _guardrails(spec: RunSpec) -> dict[str, Any] | None:
    if spec.guardrails is None:
        return None
    root = "/home/lab/tutorstudentllm/" if spec.guardrails == "abs" else ""
    return {
        "guardrails_path": f"{root}runs/_aggregated/bayes/tables/guardrails.json",
        "talk_slopes_path": f"{root}runs/_aggregated/bayes/tables/talk_slopes_by_domain_20250913_104225.csv",
        "turns_limit": 24,
        "talk_mode": "rich",
    }


def run_end_record(run_id: str | None, ts: int, steps: int) -> dict[str, Any]:
    return {
        "run_end": True,
        "schema_version": 2,
        "run_id": run_id,
        "ts": ts,
        "status": "complete",
        "reason": None,
        "steps_logged": steps,
    }
