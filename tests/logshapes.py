"""Records in the simulator's logged shapes (run header, MCQ / SAQ / code / proof / table_qa steps),
for tests that write small corpora by hand. Values are made up; key layout follows the log format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DIALS = {"closed_book": True, "anonymize": True, "self_consistency_n": 1, "fact_cards_budget": 8}


def header(
    run_id: str,
    *,
    task: str = "mcq",
    steps: int = 3,
    seed: int | None = 424242,
    ts: int = 1758000000,
    dials: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A simulator run header (no student/model/τ: the old format logs none of them)."""
    return {
        "run_header": True,
        "run_id": run_id,
        "ts": ts,
        "config": {
            "skill_id": None,
            "task": task,
            "num_steps": steps,
            "num_options": 5,
            "difficulty": "medium",
            "domain": "general",
            "dials": dials or DIALS,
        },
        "anonymization": {"seed": seed, "vocab_size": 51} if seed is not None else None,
        **extra,
    }


def mcq(
    run_id: str,
    step: int,
    correct: bool,
    *,
    item: str = "",
    credited: bool | None = None,
    ts: int = 1758000100,
) -> dict[str, Any]:
    ev: dict[str, Any] = {
        "correct": correct,
        "chosen_index": 1 if correct else 0,
        "correct_index": 1,
        "abstained": False,
    }
    if credited is not None:
        ev["citations_evidence"] = {
            "coverage": 1.0 if credited else 0.0,
            "witness_pass": credited,
            "credited": credited,
            "reasons": [],
        }
    return {
        "run_id": run_id,
        "step": step,
        "ts": ts + step,
        "task": {
            "type": "mcq",
            "stem": f"Which option fits {item or step}?",
            "options": ["A1", "B2", "C3", "D4", "E5"],
            "correct_index": 1,
        },
        "presented_stem": f"QUESTION: Which option fits {item or step}?",
        "answer": {"chosen_index": 1 if correct else 0, "votes": [1]},
        "evaluation": ev,
        "duration_ms": 1000,
    }


def saq(run_id: str, step: int, score: float) -> dict[str, Any]:
    grading = {
        "score": score,
        "correct": score >= 0.5,
        "found_points": [],
        "missing_points": [],
        "misconception_tags": [],
        "feedback": "ok",
    }
    return {
        "run_id": run_id,
        "step": step,
        "ts": 1758000200 + step,
        "task": {
            "type": "saq",
            "stem": f"Explain {step}",
            "expected_points": [{"key": "k", "required": True}],
        },
        "presented_stem": f"Explain {step}",
        "answer": {"student_answer": "because"},
        "grading": grading,
        "saq_drafts": [{"answer": "because", "grading": grading}],
        "duration_ms": 500,
    }


def code(run_id: str, step: int, passed: int | None, total: int | None) -> dict[str, Any]:
    ev: dict[str, Any] = (
        {"ok": passed == total, "passed": passed, "total": total, "results": []}
        if total is not None
        else {"ok": False, "error": "SyntaxError: invalid syntax"}
    )
    return {
        "run_id": run_id,
        "step": step,
        "ts": 1758000300 + step,
        "task": {"type": "code", "function_name": "add", "description": "implement add(a, b)"},
        "presented_stem": "implement add(a, b)",
        "answer": {"code": "def add(a, b): return a + b"},
        "evaluation": ev,
        "duration_ms": 200,
    }


def proof(run_id: str, step: int, ok: bool) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "step": step,
        "ts": 1758000400 + step,
        "task": {"type": "proof", "statement": f"Show {step}"},
        "presented_stem": f"Show {step}",
        "answer": {"step": "by induction"},
        "evaluation": {"ok": ok, "missing_keywords": []},
        "duration_ms": 100,
    }


def table_qa(run_id: str, step: int, ok: bool) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "step": step,
        "ts": 1758000500 + step,
        "task": {"type": "table_qa", "question": f"Sum of row {step}?"},
        "presented_stem": "table",
        "answer": {"answer": "3"},
        "evaluation": {"ok": ok, "expected": "3", "got": "3" if ok else "4"},
        "duration_ms": 100,
    }


def write(path: Path, records: list[dict[str, Any]], torn_tail: str = "") -> Path:
    """Write records as the simulator does (json.dumps defaults, one per line), then a torn tail."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    path.write_text(text + torn_tail, encoding="utf-8")
    return path


def mcq_run(
    run_id: str, outcomes: list[bool], *, seed: int | None = 424242, items: str = "x", **header_extra: Any
) -> list[dict[str, Any]]:
    """A header plus one MCQ step per outcome (items named <items>0, <items>1, ...)."""
    recs = [header(run_id, steps=len(outcomes), seed=seed, **header_extra)]
    recs += [mcq(run_id, i, ok, item=f"{items}{i}", credited=ok) for i, ok in enumerate(outcomes)]
    return recs
