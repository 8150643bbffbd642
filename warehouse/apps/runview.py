"""One run and one step, as `warehouse show` and the web view present them.

A run is named by its run_id or run key, or by a prefix of either that names one run. A step
reads the step record as logged (task, presented_stem, answer, evaluation, cards) and its
transcript from the `transcripts` table: each call's messages and completion, in order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from warehouse.core.errors import QueryError, UsageError

if TYPE_CHECKING:
    import duckdb

RUN_COLUMNS = (
    "run_key, run_id, model, provider, student, campaign, status, tau, setting, setting_id, "
    "steps_logged, planned_steps, started_at, ended_at, path, end_reason, dials"
)
# `runs` and `steps` are views (or, in the web view, cached copies of them): every query names
# them through the `runs` / `steps` arguments.
STEP_COLUMNS = (
    "step, file_id, line_no, item_id, correct, credited, abstained, abstain_reason, chosen_index, "
    "correct_index, coverage, witness_pass, reasons, votes_n, citations_n, cards_n, seconds, "
    "student_tokens"
)
# What of the step record is shown (rec fields; JSON as logged).
_STEP_FIELDS = (
    "task",
    "presented_stem",
    "answer",
    "evaluation",
    "fact_cards_after",
    "card_validation",
    "tool_outputs",
    "messages",
)


@dataclass
class Message:
    role: str
    content: str | None  # None when only the length was logged
    chars: int | None


@dataclass
class CallTranscript:
    call_no: int
    source: str  # calls | messages
    role_group: str | None
    phase: str | None
    model: str | None
    messages: list[Message] = field(default_factory=list)


@dataclass
class StepView:
    run: dict[str, Any]
    row: dict[str, Any]
    record: dict[str, Any]
    calls: list[CallTranscript]

    @property
    def task(self) -> dict[str, Any]:
        task = self.record.get("task")
        return task if isinstance(task, dict) else {}

    @property
    def options(self) -> list[str]:
        options = self.task.get("options")
        return [str(o) for o in options] if isinstance(options, list) else []

    @property
    def cards(self) -> list[dict[str, Any]]:
        after = self.record.get("fact_cards_after")
        cards = after.get("cards") if isinstance(after, dict) else None
        return [c for c in cards if isinstance(c, dict)] if isinstance(cards, list) else []

    @property
    def citations(self) -> list[Any]:
        answer = self.record.get("answer")
        cites = answer.get("citations") if isinstance(answer, dict) else None
        return cites if isinstance(cites, list) else []

    @property
    def evidence(self) -> dict[str, Any]:
        evaluation = self.record.get("evaluation")
        found = evaluation.get("citations_evidence") if isinstance(evaluation, dict) else None
        return found if isinstance(found, dict) else {}


def dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def find_run(con: duckdb.DuckDBPyConnection, ref: str, runs: str = "runs") -> dict[str, Any]:
    """The run named by `ref` (exact run_id or run key first, then a unique prefix)."""
    ref = ref.strip()
    if not ref:
        raise UsageError(
            "give a run id or a unique prefix of one "
            "('warehouse query \"select run_id from runs\"' lists them)"
        )
    exact = dicts(
        con.execute(f"SELECT {RUN_COLUMNS} FROM {runs} WHERE run_key = $r OR run_id = $r", {"r": ref})
    )
    if len(exact) == 1:
        return exact[0]
    found = exact or dicts(
        con.execute(
            f"SELECT {RUN_COLUMNS} FROM {runs}"
            " WHERE starts_with(run_key, $r) OR starts_with(run_id, $r) LIMIT 6",
            {"r": ref},
        )
    )
    if not found:
        raise QueryError(
            f'no run {ref!r} in the warehouse: check the id (warehouse query "select run_id from runs")'
        )
    if len(found) > 1:
        some = ", ".join(str(r["run_key"]) for r in found[:5])
        raise QueryError(f"{ref!r} names {len(found)} runs ({some}, ...): give more of the id")
    return found[0]


def run_steps(con: duckdb.DuckDBPyConnection, run_key: str, steps: str = "steps") -> list[dict[str, Any]]:
    return dicts(
        con.execute(
            f"SELECT {STEP_COLUMNS} FROM {steps} WHERE run_key = $k ORDER BY step, line_no", {"k": run_key}
        )
    )


def learning_curve(steps: list[dict[str, Any]]) -> list[tuple[int, float, float]]:
    """(step, cumulative credited rate, cumulative correct rate) after each step."""
    out, credited, correct = [], 0, 0
    for i, s in enumerate(steps, 1):
        credited += bool(s.get("credited"))
        correct += bool(s.get("correct"))
        out.append((int(s["step"]) if s["step"] is not None else i - 1, credited / i, correct / i))
    return out


def find_step(
    con: duckdb.DuckDBPyConnection, run: dict[str, Any], step: int, steps: str = "steps"
) -> StepView:
    rows = dicts(
        con.execute(
            f"SELECT {STEP_COLUMNS} FROM {steps} WHERE run_key = $k AND step = $s ORDER BY line_no LIMIT 1",
            {"k": run["run_key"], "s": step},
        )
    )
    if not rows:
        n = run.get("steps_logged")
        raise QueryError(f"run {run['run_key']} has no step {step} ({n} steps logged, numbered from 0)")
    row = rows[0]
    record = step_record(con, row["file_id"], row["line_no"])
    calls = transcript(con, row["file_id"], row["line_no"]) or legacy_transcript(record)
    return StepView(run, row, record, calls)


def step_record(con: duckdb.DuckDBPyConnection, file_id: int, line_no: int) -> dict[str, Any]:
    fields = ", ".join(f"line -> '$.{name}'" for name in _STEP_FIELDS)
    found = con.execute(
        f"SELECT {fields} FROM records WHERE file_id = $f AND line_no = $l", {"f": file_id, "l": line_no}
    ).fetchone()
    if found is None:
        return {}
    return {name: _json(value) for name, value in zip(_STEP_FIELDS, found, strict=True) if value is not None}


def _json(text: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def transcript(con: duckdb.DuckDBPyConnection, file_id: int, line_no: int) -> list[CallTranscript]:
    return transcripts(con, [(file_id, line_no)]).get((file_id, line_no), [])


StepKey = tuple[int, int]  # (file_id, line_no) of a step record
# The keys as a relation (two bound lists); $files lets the scan skip other files' rows first.
_KEYS = "(SELECT unnest($fs) AS f, unnest($ls) AS l)"


def _key_params(keys: list[StepKey]) -> dict[str, list[int]]:
    return {"files": sorted({f for f, _ in keys}), "fs": [f for f, _ in keys], "ls": [n for _, n in keys]}


def transcripts(con: duckdb.DuckDBPyConnection, keys: list[StepKey]) -> dict[StepKey, list[CallTranscript]]:
    """The transcripts of several steps in one query."""
    if not keys:
        return {}
    rows = con.execute(
        f"""SELECT t.file_id, t.line_no, call_no, source, role_group, phase, model, role, content, chars
            FROM transcripts t JOIN {_KEYS} k ON t.file_id = k.f AND t.line_no = k.l
            WHERE list_contains($files, t.file_id)
            ORDER BY t.file_id, t.line_no, source, call_no, msg_no""",
        _key_params(keys),
    ).fetchall()
    out: dict[StepKey, dict[tuple[str, int], CallTranscript]] = {}
    for file_id, line_no, call_no, source, group, phase, model, role, content, chars in rows:
        calls = out.setdefault((file_id, line_no), {})
        call = calls.setdefault((source, call_no), CallTranscript(call_no, source, group, phase, model))
        call.messages.append(Message(role or "?", content, chars))
    return {key: list(calls.values()) for key, calls in out.items()}


def stems(con: duckdb.DuckDBPyConnection, keys: list[StepKey]) -> dict[StepKey, str]:
    """The question (task.stem) of several step records in one query."""
    if not keys:
        return {}
    rows = con.execute(
        f"""SELECT r.file_id, r.line_no, line ->> '$.task.stem'
            FROM records r JOIN {_KEYS} k ON r.file_id = k.f AND r.line_no = k.l
            WHERE list_contains($files, r.file_id)""",
        _key_params(keys),
    ).fetchall()
    return {(f, n): stem or "" for f, n, stem in rows}


def legacy_transcript(record: dict[str, Any]) -> list[CallTranscript]:
    """An older log's `messages[]` events as logged: one per call, its system and user text
    (at most 4000 characters each, as that simulator cut them) or only their lengths."""
    events = record.get("messages")
    calls = []
    for i, event in enumerate(events if isinstance(events, list) else [], 1):
        if not isinstance(event, dict):
            continue
        call = CallTranscript(i, "messages", _text(event.get("role_group")), None, _text(event.get("model")))
        for role in ("system", "user"):
            if role in event or f"{role}_len" in event:
                length = event.get(f"{role}_len")
                content = event.get(role)
                call.messages.append(
                    Message(
                        role,
                        content if isinstance(content, str) else None,
                        length if isinstance(length, int) else None,
                    )
                )
        calls.append(call)
    return calls


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)
