"""Ingest of transcripts from odd step records: never an error, rows only where the shape holds,
and the fast path and the exact path agree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ingest_support import content_hash, rows

from ingest import ingest_runs

GOOD = {
    "role": "student",
    "phase": "use",
    "messages": [
        {"role": "system", "chars": 3, "content": "sys"},
        {"role": "user", "chars": 2, "content": "hi"},
    ],
    "completion_chars": 2,
    "completion": "ok",
}
ODD_CALLS = [
    "not a list",
    {"completion_chars": 1},
    [1, "completion_chars", None],
    [{"completion_chars": "many", "messages": "none"}],
    [{"completion_chars": 5, "messages": [7, {"role": ["x"], "chars": 1e30, "content": {"a": 1}}]}],
    [GOOD, {**GOOD, "phase": "learn", "completion": None}],
]


def _write(root: Path) -> None:
    lines = [json.dumps({"run_header": True, "schema_version": 2, "run_id": "r1", "ts": 1})]
    for i, calls in enumerate(ODD_CALLS):
        step = {
            "schema_version": 2,
            "run_id": "r1",
            "step": i,
            "ts": 2,
            "task": {"type": "mcq", "stem": "q", "options": ["a", "b"], "correct_index": 0},
            "calls": calls,
        }
        lines.append(json.dumps(step))
    lines.append(json.dumps({"run_id": "r1", "step": 9, "ts": 2, "calls": [GOOD]}))  # no schema_version
    (root / "x").mkdir(parents=True)
    (root / "x" / "odd.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_odd_shapes_give_rows_only_where_the_shape_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs"
    _write(runs)
    monkeypatch.setenv("WAREHOUSE_FAST_MIN_BYTES", "1")
    fast, exact = tmp_path / "f" / "r.duckdb", tmp_path / "e" / "r.duckdb"
    assert ingest_runs(str(runs), str(fast)).files_fast_path == 1
    ingest_runs(str(runs), str(exact), fast=False)
    assert content_hash(fast) == content_hash(exact)
    got = rows(
        fast, "SELECT step, call_no, msg_no, phase, role, content, chars FROM transcripts ORDER BY ALL"
    )
    assert got == [
        (4, 1, 1, None, None, None, None),  # 7: not an object
        (4, 1, 2, None, '["x"]', '{"a":1}', None),
        (4, 1, 3, None, "assistant", None, 5),
        (5, 1, 1, "use", "system", "sys", 3),
        (5, 1, 2, "use", "user", "hi", 2),
        (5, 1, 3, "use", "assistant", "ok", 2),
        (5, 2, 1, "learn", "system", "sys", 3),
        (5, 2, 2, "learn", "user", "hi", 2),
        (5, 2, 3, "learn", "assistant", None, 2),
    ]
