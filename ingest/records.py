"""What a log line becomes: the line itself (lossless) and the typed columns the views need.

Both load paths (DuckDB's reader for big clean files, the Python line reader for everything
else) produce a relation `(file_id, line_no, line, run_key)` and share one SQL projection,
`PROJECT_SQL`, so a line is typed identically whichever path read it.
"""

from __future__ import annotations

import hashlib

import orjson

# Which top-level keys and dials are known comes from the log-format contract
# (warehouse/core/logformat.py), which the runner writes with.

_EVAL = orjson.dumps(
    {
        "correct": "BOOLEAN",
        "abstained": "BOOLEAN",
        "abstain_reason": "VARCHAR",
        "calibrated_score": "DOUBLE",
        "chosen_index": "INTEGER",
        "correct_index": "INTEGER",
        "citations_evidence": {
            "coverage": "DOUBLE",
            "witness_pass": "BOOLEAN",
            "credited": "BOOLEAN",
            "reasons": ["VARCHAR"],
        },
        "evidence_report": {"coverage": "DOUBLE"},
    }
).decode()
_TASK = orjson.dumps(
    {"type": "VARCHAR", "stem": "VARCHAR", "options": ["VARCHAR"], "correct_index": "INTEGER"}
).decode()
_ANSWER = orjson.dumps({"chosen_index": "INTEGER", "votes": ["JSON"], "citations": ["JSON"]}).decode()
_USAGE = orjson.dumps(
    {
        "calls": "INTEGER",
        "prompt_tokens": "BIGINT",
        "completion_tokens": "BIGINT",
        "total_tokens": "BIGINT",
        "request_ms_sum": "DOUBLE",
    }
).decode()
_ALIAS = orjson.dumps({"phase": "VARCHAR"}).decode()
_ALIAS_EV = orjson.dumps({"coverage": "DOUBLE", "witness_pass": "BOOLEAN", "credited": "BOOLEAN"}).decode()
_GRADING = orjson.dumps({"score": "DOUBLE", "correct": "BOOLEAN"}).decode()
_CONFIG = orjson.dumps(
    {
        "task": "VARCHAR",
        "num_steps": "INTEGER",
        "num_options": "INTEGER",
        "difficulty": "VARCHAR",
        "domain": "VARCHAR",
        "skill_id": "VARCHAR",
    }
).decode()
_STUDENT = orjson.dumps({"type": "VARCHAR", "provider": "VARCHAR", "model": "VARCHAR"}).decode()

# ONE json_transform of the whole line gives every typed field (the values the views need, and
# the few top-level scalars as JSON text): the line is parsed once and nothing large (cards,
# messages, tool outputs) is re-serialised. Measured on 244 MB of logs: 4.7 s CPU for the insert
# against 6.8 s for a struct of every top-level value as JSON text, typed from there.
# Top-level values kept as JSON text (typed in PROJECT_SQL, or stored as JSON: plan, runner).
_AS_JSON = (
    "run_header run_end schema_version run_id step ts coverage_tau status reason duration_ms plan runner"
)
TYPED_STRUCTURE = orjson.dumps(
    {
        **{k: "JSON" for k in _AS_JSON.split()},
        "config": {**orjson.loads(_CONFIG), "dials": "JSON"},
        "anonymization": {"seed": "JSON"},
        "student": orjson.loads(_STUDENT),
        "task": orjson.loads(_TASK),
        "evaluation": orjson.loads(_EVAL),
        "answer": orjson.loads(_ANSWER),
        "student_usage": orjson.loads(_USAGE),
        "tutor_usage": orjson.loads(_USAGE),
        "alias": orjson.loads(_ALIAS),
        "alias_evidence": orjson.loads(_ALIAS_EV),
        "grading": orjson.loads(_GRADING),
    }
).decode()


def _norm(expr: str) -> str:
    """lower-cased, trimmed (each part, around the chr(30)/chr(31) separators too), whitespace
    runs collapsed. The regexes run only on text that needs them (memchr-speed checks first):
    on every row they cost more than the whole load."""
    needles = (
        "'  '",
        "chr(9)",
        "chr(10)",
        "chr(13)",
        "' ' || chr(30)",
        "chr(30) || ' '",
        "' ' || chr(31)",
        "chr(31) || ' '",
    )
    dirty = " OR ".join(f"contains({expr}, {n})" for n in needles)
    clean = (
        f"regexp_replace(regexp_replace(trim({expr}), '\\s+', ' ', 'g'), ' ?([\\x1e\\x1f]) ?', '\\1', 'g')"
    )
    return f"lower(CASE WHEN {dirty} THEN {clean} ELSE trim({expr}) END)"


# Item identity: the normalised stem and options (chr(30)/chr(31) separate them), hashed.
_ITEM_TEXT = "tk.stem || chr(30) || coalesce(array_to_string(tk.options, chr(31)), '')"
_ITEM_ID = f"CASE WHEN item_text IS NOT NULL THEN md5({_norm('item_text')}) END"

# Typed projection of a CTE `staged`(file_id, line_no, line, run_key); the caller writes
# `WITH staged AS (...), <PROJECT_SQL>`. Run keys are computed upstream (no window: it would
# materialise and sort whole rows). $load_id is bound by the caller. Column order = records.
PROJECT_SQL = f"""
t AS (
    SELECT s.file_id, s.line_no, s.line, s.run_key, json_transform(s.line, '{TYPED_STRUCTURE}') AS x
    FROM staged AS s
), v AS (
    SELECT
        file_id, line_no, line, run_key, x,
        CASE WHEN x.run_header::VARCHAR = 'true' THEN 'header'
             WHEN x.run_end::VARCHAR = 'true' THEN 'run_end'
             WHEN x.step IS NOT NULL AND x.step::VARCHAR <> 'null' THEN 'step'
             ELSE 'other' END AS kind,
        x.run_id ->> '$' AS run_id_text,
        x.evaluation AS ev, x.task AS tk, x.answer AS an, x.student_usage AS su, x.tutor_usage AS tu,
        x.alias AS al, x.alias_evidence AS ae, x.grading AS gr, x.config AS cf, x.student AS st
    FROM t
), u AS (
    SELECT *, {_ITEM_TEXT} AS item_text FROM v
)
SELECT
    file_id, line_no, $load_id AS load_id, kind, run_key,
    run_id_text AS run_id,
    TRY_CAST(x.step::VARCHAR AS BIGINT) AS step,
    TRY_CAST(x.ts::VARCHAR AS DOUBLE) AS ts,
    TRY_CAST(x.schema_version::VARCHAR AS INTEGER) AS schema_version,
    cf.task, cf.num_steps, cf.num_options, cf.difficulty, cf.domain, cf.skill_id,
    cf.dials AS dials,
    TRY_CAST(x.anonymization.seed ->> '$' AS BIGINT) AS anon_seed,
    st.type, st.provider, st.model,
    TRY_CAST(x.coverage_tau::VARCHAR AS DOUBLE) AS hdr_tau,
    x.status ->> '$' AS end_status,
    x.reason ->> '$' AS end_reason,
    tk.type AS task_type,
    {_ITEM_ID} AS item_id,
    len(tk.options) AS n_options,
    coalesce(tk.correct_index, ev.correct_index) AS correct_index,
    coalesce(ev.chosen_index, an.chosen_index) AS chosen_index,
    ev.correct,
    coalesce(ev.abstained, CASE WHEN ev.correct IS NOT NULL
                                THEN coalesce(ev.chosen_index, an.chosen_index) IS NULL END),
    ev.abstain_reason, ev.calibrated_score,
    ev.citations_evidence.coverage, ev.citations_evidence.witness_pass,
    ev.citations_evidence.credited, ev.citations_evidence.reasons,
    ev.evidence_report.coverage AS er_coverage,
    al.phase, ae.coverage, ae.witness_pass, ae.credited,
    gr.score, gr.correct,
    len(an.votes) AS votes_n,
    len(an.citations) AS citations_n,
    NULL::INTEGER AS cards_n,
    NULL::INTEGER AS messages_n,
    TRY_CAST(x.duration_ms::VARCHAR AS DOUBLE) AS duration_ms,
    su.calls, su.prompt_tokens, su.completion_tokens, su.total_tokens, su.request_ms_sum,
    tu.calls, tu.prompt_tokens, tu.completion_tokens, tu.total_tokens, tu.request_ms_sum,
    line, x.plan AS hdr_plan, x.runner AS hdr_runner
FROM u
"""


def header_key(run_id: object, seed: str, line_no: int) -> str:
    """Run key a header starts: its run_id as text (like SQL `->> '$'`), else a synthetic one."""
    if isinstance(run_id, str):
        return run_id
    if run_id is None:
        return "synthetic-" + hashlib.md5(f"{seed}:{line_no}".encode()).hexdigest()
    return orjson.dumps(run_id).decode()


def classify(obj: dict[str, object]) -> str:
    """Kind of a parsed record, the same rule as PROJECT_SQL's."""
    if obj.get("run_header") is True:
        return "header"
    if obj.get("run_end") is True:
        return "run_end"
    if obj.get("step") is not None:
        return "step"
    return "other"
