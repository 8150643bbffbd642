"""The run-log format: the one contract between the runner (writes logs) and ingest (reads them).

A log is JSONL, one record per line, of three kinds: a run header (`run_header: true`), steps
(an integer `step`) and a run end (`run_end: true`). The record types below name every
top-level key either side knows, with its type; the runner builds its records as these types
and ingest derives from them which keys it knows (others go to `schema_drift`), so the two
cannot drift apart. Neither imports the other: both import this module.

Logs of older eras (other writers) carry keys this runner no longer writes (`alias`,
`messages`, `grading`, ...); they are part of the format too, as optional keys of a step.

`SCHEMA_VERSION` is what this code writes. Ingest stores every line as logged whatever its
version; a line whose `schema_version` is newer than this is flagged (`schema_drift` key
`schema_version=N`, `warehouse status`, the ingest summary): its values may mean something this
code does not know, so look before trusting the typed columns.
"""

from __future__ import annotations

from typing import Any, Literal

# typing_extensions' TypedDict (the same as typing's from Python 3.12): it keeps what the runtime
# needs to check a record against these types (tests/test_logformat.py does, with pydantic).
from typing_extensions import TypedDict

SCHEMA_VERSION = 2

# ---------------------------------------------------------------- run header


class DialValues(TypedDict):
    """`config.dials`: the 58 dials, every one in every header, in this order."""

    closed_book: bool
    anonymize: bool
    rich: bool
    verify: bool
    reflection_every: int
    context_position: str
    self_consistency_n: int
    adaptive_sc: bool
    sc_quorum: int
    reasoning: str
    temp_answer: float
    temp_sc: float
    top_p: float
    min_p: float | None
    grammar: str
    sc_extract_n: int
    q_min: int
    max_learn_boosts: int
    mmr_lambda: float
    span_window: int
    citation_mode: str
    min_sources_chosen: int
    dedup_sim: float
    sc_policy: str
    sc_k_easy: int
    sc_k_medium: int
    sc_k_hard: int
    best_of_n: int
    rerank: str
    reflexion: bool
    compress_examples: bool
    compress_ratio: float
    controller: str
    controller_budget: int
    tot_width: int
    tot_depth: int
    tot_judge: str
    uncertainty_gate: bool
    conf_threshold: float
    entropy_threshold: float
    max_k_escalated: int
    escalate_reasoning: bool
    instruction_header: str | None
    accumulate_notes: bool
    rare_emphasis: bool
    use_tools: bool
    tools: list[str]
    use_fact_cards: bool
    fact_cards_budget: int
    require_citations: bool
    freeze_cards: bool
    idk_enabled: bool
    target_confidence: float
    min_cqs: float
    min_card_len: int
    max_card_len: int
    per_option_top_k: int
    evidence_weighted_selection: bool


DIAL_NAMES: tuple[str, ...] = tuple(DialValues.__annotations__)


class RunConfig(TypedDict):
    skill_id: str | None
    task: str
    num_steps: int
    num_options: int
    difficulty: str
    domain: str
    dials: DialValues


class Anonymization(TypedDict):
    seed: int
    vocab_size: int


class StudentInfo(TypedDict):
    type: str
    provider: str
    model: str | None


class RunnerInfo(TypedDict):
    name: str
    version: str
    git_commit: str | None
    argv: list[str]
    log_messages: str  # none | counts | text: how much of each call's messages the steps keep


class _HeaderCore(TypedDict):
    run_header: Literal[True]
    schema_version: int
    run_id: str
    ts: int
    config: RunConfig
    anonymization: Anonymization | None
    guardrails: dict[str, Any] | None
    student: StudentInfo
    coverage_tau: float
    runner: RunnerInfo
    plan: dict[str, Any] | None


class RunHeader(_HeaderCore, total=False):
    """A run header; `source` only in runs imported from other harnesses (ingest/importers):
    their fields that map to no key above."""

    source: dict[str, Any]


# ---------------------------------------------------------------- step


class Task(TypedDict, total=False):
    """`type` says which keys follow: mcq (stem, options, correct_index), saq (stem,
    expected_points), code (function_name, description), proof (statement), table_qa (question)."""

    type: str
    stem: str
    options: list[str]
    correct_index: int
    expected_points: list[dict[str, Any]]
    function_name: str
    description: str
    statement: str
    question: str


class Answer(TypedDict, total=False):
    """mcq: chosen_index, votes, citations, witness; saq: student_answer; code: code; proof:
    step; table_qa: answer."""

    chosen_index: int | None
    votes: list[int | None]
    citations: list[str]
    witness: dict[str, Any]
    student_answer: str
    code: str
    step: str
    answer: str


class Evaluation(TypedDict, total=False):
    """mcq: correct .. citations_evidence; code, proof, table_qa: ok and what was checked."""

    correct: bool
    chosen_index: int | None
    correct_index: int
    abstained: bool
    evidence_report: dict[str, Any]
    calibrated_score: float
    t: float
    abstain_reason: str
    citations_evidence: dict[str, Any]
    ok: bool
    passed: int
    total: int
    results: list[dict[str, Any]]
    error: str
    missing_keywords: list[str]
    expected: str
    got: str


class Usage(TypedDict):
    calls: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    request_ms_sum: float


class _StepCore(TypedDict):
    schema_version: int
    run_id: str
    step: int
    ts: int


class StepRecord(_StepCore, total=False):
    """One step. Every task type has task, presented_stem and answer; mcq and the exercises have
    evaluation; saq has grading and saq_drafts; alias_swap has alias (and alias_evidence in
    phase B); guardrail_alerts when the run has token guardrails. evidence_telemetry and the keys
    after it come from logs of other writers."""

    task: Task
    presented_stem: str
    answer: Answer
    evaluation: Evaluation
    tool_outputs: list[dict[str, Any]]
    tools_used: list[str]
    fact_cards_before: dict[str, Any]
    fact_cards_after: dict[str, Any]
    card_validation: dict[str, Any]
    duration_ms: float
    student_usage: Usage
    tutor_usage: Usage
    calls: list[dict[str, Any]]
    alias: dict[str, Any]
    alias_evidence: dict[str, Any]
    grading: dict[str, Any]
    saq_drafts: list[dict[str, Any]]
    guardrail_alerts: dict[str, Any]
    evidence_telemetry: dict[str, Any]
    messages: list[Any]
    card_metrics: dict[str, Any]
    source: dict[str, Any]  # imported runs: the harness's fields that map to no key above


# ---------------------------------------------------------------- run end


class RunEnd(TypedDict):
    run_end: Literal[True]
    schema_version: int
    run_id: str
    ts: int
    status: Literal["complete", "aborted"]
    reason: str | None
    steps_logged: int


LogRecord = RunHeader | StepRecord | RunEnd

# Top-level keys per kind of record, and all of them (header and run-end flags first).
HEADER_KEYS: tuple[str, ...] = tuple(RunHeader.__annotations__)
STEP_KEYS: tuple[str, ...] = tuple(StepRecord.__annotations__)
RUN_END_KEYS: tuple[str, ...] = tuple(RunEnd.__annotations__)
KNOWN_KEYS: tuple[str, ...] = tuple(
    dict.fromkeys(("run_header", "run_end", *HEADER_KEYS, *RUN_END_KEYS, *STEP_KEYS))
)
KNOWN = frozenset(KNOWN_KEYS)


def newer_than_code(version: object) -> bool:
    """Whether a record's `schema_version` is one this code does not know yet."""
    return isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION
