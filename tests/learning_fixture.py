"""A tiny hand-made corpus for the learning, stability and failure-reason views.

Every step's outcome is spelled out, so the tests can compare the views with values worked out by
hand. Runs r1 and r2 are appended to one file whose last line is torn; r3 and r4 sit in their own
files; r5 is r1's setting with the tools switched on (the RAG pair).
r1 logs two messages per step; r3 (3000 tokens a step) and r4 (1000) log guardrail alerts against
the band 1200-2500.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synth import BASE_DIALS, header

# (correct, credited, witness_pass, reasons) per step
Step = tuple[int, int, int, list[str]]
OK: Step = (1, 1, 1, [])
R1: list[Step] = [
    (1, 0, 0, ["witness_mismatch"]),
    OK,
    (0, 0, 1, ["coverage_below_tau", "no_snippet_quote"]),
    OK,
    OK,
    OK,
]
R2: list[Step] = [OK, (0, 0, 0, ["no_citations"])]
R3: list[Step] = [
    *[OK] * 6,
    (0, 0, 0, ["no_snippet_quote"]),
    (0, 0, 0, ["witness_mismatch"]),
    (0, 0, 0, ["no_snippet_quote", "witness_mismatch"]),
    (0, 0, 0, []),
    (0, 0, 0, ["coverage_below_tau"]),
    (0, 0, 0, ["no_snippet_quote"]),
]
R4: list[Step] = [OK] * 11
R5: list[Step] = [OK, OK, OK, (1, 0, 0, ["witness_mismatch"])]


BAND = {"band_low": 1200.0, "band_high": 2500.0, "opt": 1800.0}


def guard(tokens: int, cum: int) -> dict[str, Any]:
    """The guardrail_alerts block a run with the band above logs (no autonudge)."""
    state = (
        "below_band"
        if tokens < BAND["band_low"]
        else "above_band"
        if tokens > BAND["band_high"]
        else "in_band"
    )
    action = {"below_band": "warn_richer", "above_band": "warn_leaner"}.get(state)
    return {
        "tokens_step": {"tokens": tokens, "state": state, **BAND, "autonudge": False, "action": action},
        "tokens_run": {"tokens_cum": cum, "band_low": 12000.0, "band_high": 25000.0, "opt": 18000.0},
    }


def step(run_id: str, i: int, s: Step, tokens: int) -> dict[str, Any]:
    correct, credited, witness, reasons = s
    return {
        "schema_version": 2,
        "run_id": run_id,
        "step": i,
        "ts": 1_760_000_000 + i,
        "task": {"type": "mcq", "stem": f"Q{i} of {run_id}?", "options": ["a", "b", "c"], "correct_index": 0},
        "presented_stem": f"QUESTION: Q{i}",
        "answer": {"chosen_index": 0 if correct else 1, "votes": [0]},
        "evaluation": {
            "correct": bool(correct),
            "chosen_index": 0 if correct else 1,
            "correct_index": 0,
            "abstained": False,
            "citations_evidence": {
                "coverage": 0.5,
                "witness_pass": bool(witness),
                "credited": bool(credited),
                "reasons": reasons,
            },
        },
        "duration_ms": 1000,
        "student_usage": {
            "calls": 1,
            "prompt_tokens": tokens - 100,
            "completion_tokens": 100,
            "total_tokens": tokens,
            "request_ms_sum": 10.0,
        },
        "tutor_usage": {
            "calls": 1,
            "prompt_tokens": 200,
            "completion_tokens": 300,
            "total_tokens": 500,
            "request_ms_sum": 5.0,
        },
    }


def run(
    run_id: str,
    model: str,
    steps: list[Step],
    *,
    tools: bool = False,
    tokens: int = 1500,
    guarded: bool = False,
    messages: int = 0,
) -> list[str]:
    dials = {**BASE_DIALS, "use_tools": tools}
    lines = [header(run_id, 1_760_000_000, model, dials, len(steps), 0.4)]
    for i, s in enumerate(steps):
        rec = step(run_id, i, s, tokens)
        if messages:
            rec["messages"] = [{"role_group": "student", "total_tokens": tokens // messages}] * messages
        if guarded:
            rec["guardrail_alerts"] = guard(tokens, tokens * (i + 1))
        lines.append(rec)
    return [json.dumps(rec) for rec in lines]


def write(runs: Path) -> None:
    """r1 + r2 appended in one file with a torn last line; r3, r4, r5 one file each."""
    (runs / "learn").mkdir(parents=True, exist_ok=True)
    appended = run("r1", "m-a", R1, messages=2) + run("r2", "m-a", R2)
    torn = '{"schema_version": 2, "run_id": "r2", "step": 2, "ts": 1760000002, "task": {"ty'
    (runs / "learn" / "ma.jsonl").write_text("\n".join(appended) + "\n" + torn, encoding="utf-8")
    (runs / "learn" / "mb3.jsonl").write_text(
        "\n".join(run("r3", "m-b", R3, tokens=3000, guarded=True)) + "\n"
    )
    (runs / "learn" / "mb4.jsonl").write_text(
        "\n".join(run("r4", "m-b", R4, tokens=1000, guarded=True)) + "\n"
    )
    (runs / "learn" / "ma5.jsonl").write_text("\n".join(run("r5", "m-a", R5, tools=True)) + "\n")


def ingested(root: Path) -> Path:
    """The fixture's logs written under root/runs and ingested into root/runs.duckdb."""
    from ingest import ingest_runs

    write(root / "runs")
    ingest_runs(str(root / "runs"), str(root / "runs.duckdb"))
    return root / "runs.duckdb"
