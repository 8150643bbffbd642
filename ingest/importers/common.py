"""The records an importer yields, in the warehouse's own log shape (what the runner writes).

Every imported run is a header, its steps and a run_end, so the views read imported runs with
no change. Steps are typed `mcq` (the scored-item type the ranking and paired views read: one
verdict per item); the harness's own sample kind, and every field not mapped to a typed key, stay
in the record's `source` object, so nothing is lost.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

SCHEMA_VERSION = 2
# Keys of a dataset row (a promptfoo test's vars, an lm-eval doc) that hold the item's input text,
# in the order they are tried: the same question pairs across harnesses (see item_text).
INPUT_KEYS = ("question", "input", "query", "prompt", "problem", "text")


class ImportFailed(Exception):
    """A file an importer claimed cannot be converted; the message says why (quarantined)."""


def run_id_for(harness: str, *parts: object) -> str:
    """A stable run id for a foreign run: the harness name and a hash of what identifies it."""
    digest = hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()
    return f"{harness}-{digest[:16]}"


def item_text(row: object, fallback: str) -> str:
    """The input text of a dataset row: its first INPUT_KEYS string, else `fallback`."""
    if isinstance(row, dict):
        for key in INPUT_KEYS:
            value = row.get(key)
            if isinstance(value, str) and value.strip():
                return value
    return fallback


def header(
    *,
    harness: str,
    version: str | None,
    run_id: str,
    ts: float | None,
    task: str,
    model: str,
    provider: str | None,
    steps: int,
    dials: dict[str, Any],
    source: dict[str, Any],
) -> dict[str, Any]:
    return {
        "run_header": True,
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "ts": ts,
        "config": {"task": task, "num_steps": steps, "dials": dials},
        "student": {"type": "imported", "provider": provider, "model": model},
        "runner": {"name": harness, "harness": harness, "version": version},
        "source": source,
    }


def verdict(correct: bool | None, evidence: bool, scorer: str, score: object) -> dict[str, Any]:
    """The `evaluation` of an imported step.

    `correct` is the harness's verdict. credited (and witness_pass) equal correct only when the
    verdict carries evidence: a mechanical comparison of the recorded answer with the recorded
    target, which anyone can re-check from the record. A verdict without it (a model grader, a
    custom score) leaves credited unset: the views then count the step as not credited and
    `credit_checked` false."""
    evaluation: dict[str, Any] = {"correct": correct, "abstained": False}
    if isinstance(score, int | float) and not isinstance(score, bool):
        evaluation["calibrated_score"] = float(score)
    if evidence and correct is not None:
        evaluation["citations_evidence"] = {
            "coverage": None,
            "witness_pass": correct,
            "credited": correct,
            "reasons": [f"imported: {scorer} compared the answer with the target"],
        }
    return evaluation


def step(
    *,
    run_id: str,
    step_no: int,
    ts: float | None,
    stem: str,
    answer: str | None,
    evaluation: dict[str, Any],
    usage: dict[str, Any] | None,
    duration_ms: float | None,
    messages: list[Any] | None,
    source: dict[str, Any],
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "step": step_no,
        "ts": ts,
        "task": {"type": "mcq", "stem": stem},
        "answer": {"text": answer},
        "evaluation": {**evaluation, "abstained": not (answer or "").strip()},
    }
    if usage:
        record["student_usage"] = usage
    if duration_ms is not None:
        record["duration_ms"] = duration_ms
    if messages is not None:
        record["messages"] = messages
    record["source"] = source
    return record


def run_end(run_id: str, ts: float | None, status: str, reason: str | None, steps: int) -> dict[str, Any]:
    return {
        "run_end": True,
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "ts": ts,
        "status": status,
        "reason": reason,
        "steps_logged": steps,
    }


def usage(prompt: object, completion: object, total: object, calls: int = 1) -> dict[str, Any] | None:
    """student_usage from token counts (None when the harness logged none)."""
    if not any(isinstance(v, int) for v in (prompt, completion, total)):
        return None
    p = prompt if isinstance(prompt, int) else None
    c = completion if isinstance(completion, int) else None
    t = total if isinstance(total, int) else (p or 0) + (c or 0)
    return {"calls": calls, "prompt_tokens": p, "completion_tokens": c, "total_tokens": t}
