"""The log-format contract (warehouse/core/logformat.py) end to end: a log the runner really
writes holds only keys the contract types, each value of its type, and ingest reads it back
with no drift, every line byte for byte and the typed columns equal to the logged values."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import TypeAdapter

from ingest import ingest_runs
from warehouse.cli import cli
from warehouse.core import logformat as lf
from warehouse.store.db import open_reader

TYPES: dict[str, Any] = {"header": lf.RunHeader, "step": lf.StepRecord, "run_end": lf.RunEnd}


TASKS = ("saq", "alias_swap", "code", "proof", "table_qa")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """Real runner logs, ingested: two MCQ runs in one log (every optional step block switched on
    in one of them), then one run of each other task type in a log of its own."""
    root = tmp_path_factory.mktemp("logformat")
    log = root / "runs" / "exp" / "contract.jsonl"
    base = ("run", "--student", "lexical", "--steps", "3", "--log", str(log))
    extra = ("--idk", "--dial", "use_tools=1", "--dial", "best_of_n=2", "--dial", "rerank=evidence")
    guardrails = Path(__file__).parent.parent / "runner" / "templates" / "guardrails.example.json"
    runs = [(*base, *extra), (*base, "--append", "--guardrails", str(guardrails))]
    for task in TASKS:
        other = root / "runs" / "tasks" / f"{task}.jsonl"
        runs.append(("run", "--student", "lexical", "--task", task, "--steps", "4", "--log", str(other)))
    for args in runs:
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
    db = root / "runs.duckdb"
    ingest_runs(str(root / "runs"), str(db))
    return log, db, log.read_text(encoding="utf-8").splitlines()


def _all_lines(log: Path) -> list[str]:
    """Every line the runner wrote under the runs folder of `log` (each task's log in turn)."""
    runs = log.parent.parent
    return [
        line
        for path in sorted(runs.rglob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


def _kind(record: dict[str, Any]) -> str:
    return "header" if record.get("run_header") else "run_end" if record.get("run_end") else "step"


def _untyped(value: object, hint: object, where: str) -> list[str]:
    """Keys of `value` (recursively, through nested record types) that `hint` does not name."""
    if typing.is_typeddict(hint) and isinstance(value, dict):
        hints = typing.get_type_hints(hint)
        out = [f"{where}.{k}" for k in value if k not in hints]
        for key, inner in value.items():
            out += _untyped(inner, hints.get(key), f"{where}.{key}")
        return out
    return [x for arg in typing.get_args(hint) for x in _untyped(value, arg, where)]


def test_every_key_the_runner_writes_is_typed(written: tuple[Path, Path, list[str]]) -> None:
    log, _, _ = written
    records = [json.loads(line) for line in _all_lines(log)]
    kinds = [_kind(r) for r in records]
    assert kinds.count("header") == 2 + len(TASKS) and kinds.count("step") == 6 + 4 * len(TASKS)
    seen: set[str] = set()
    for record, kind in zip(records, kinds, strict=True):
        assert _untyped(record, TYPES[kind], kind) == []
        TypeAdapter(TYPES[kind]).validate_python(record, strict=True)
        assert record["schema_version"] == lf.SCHEMA_VERSION
        seen |= set(record)
    assert tuple(records[0]["config"]["dials"]) == lf.DIAL_NAMES
    others = {"evidence_telemetry", "messages", "card_metrics", "source"}  # other writers' keys
    assert (set(lf.STEP_KEYS) | set(lf.HEADER_KEYS) | set(lf.RUN_END_KEYS)) - others <= seen


def test_a_runner_log_round_trips_through_ingest(written: tuple[Path, Path, list[str]]) -> None:
    log, db, lines = written
    con = open_reader(db)
    try:
        assert con.execute("SELECT count(*) FROM schema_drift").fetchone() == (0,)
        stored = con.execute("SELECT line FROM records ORDER BY file_id, line_no").fetchall()
        assert sorted(line for (line,) in stored) == sorted(_all_lines(log))  # every task's lines, as logged
        rows = con.execute(
            """SELECT line_no, kind, line, run_id, step, ts, schema_version, cfg_num_steps, dials,
                      hdr_model, hdr_tau, end_status, steps_logged_col, correct, chosen_index,
                      correct_index, calibrated_score, witness_pass, credited, student_total_tokens,
                      duration_ms
               FROM (SELECT *, TRY_CAST(line ->> '$.steps_logged' AS BIGINT) AS steps_logged_col
                     FROM records WHERE file_id = (SELECT file_id FROM files
                                                   WHERE relpath = 'exp/contract.jsonl'))
               ORDER BY line_no"""
        ).fetchall()
    finally:
        con.close()
    assert [r[2] for r in rows] == lines  # lossless: each line as logged
    for row, line in zip(rows, lines, strict=True):
        record = json.loads(line)
        kind = _kind(record)
        _, got_kind, _, run_id, step, ts, version, num_steps, dials, model, tau, status, *rest = row
        steps_logged, correct, chosen, gold, calibrated, witness, credited, tokens, duration = rest
        assert (got_kind, run_id, ts, version) == (
            kind,
            record["run_id"],
            record["ts"],
            record["schema_version"],
        )
        if kind == "header":
            assert (
                num_steps == record["config"]["num_steps"] and json.loads(dials) == record["config"]["dials"]
            )
            assert (model, tau) == (record["student"]["model"], record["coverage_tau"])
        elif kind == "run_end":
            assert (status, steps_logged) == (record["status"], record["steps_logged"])
        else:
            ev = record["evaluation"]
            assert (step, correct, chosen, gold) == (
                record["step"],
                ev["correct"],
                ev["chosen_index"],
                ev["correct_index"],
            )
            assert calibrated == ev.get("calibrated_score")
            assert (witness, credited) == (
                ev["citations_evidence"]["witness_pass"],
                ev["citations_evidence"]["credited"],
            )
            assert (tokens, duration) == (record["student_usage"]["total_tokens"], record["duration_ms"])
