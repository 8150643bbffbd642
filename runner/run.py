"""One run: header, N steps, closing record, into one log file; resumable after a crash.

Log contract (the record types of warehouse/core/logformat.py, schema_version 2): the header and
step shapes of the old simulator plus student/provider/model, coverage τ, runner version, git
commit, argv, plan, per-call latency/tokens, and a closing `run_end` record. If a run is resumed,
new steps continue the same run_id and a later `run_end` supersedes an earlier "aborted" one.
"""

from __future__ import annotations

import functools
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from runner.dials import Dials
from runner.endpoint import Deadline, DeadlineReached, Endpoint, EndpointConfig
from runner.guardrails import Guardrails
from runner.items import ItemSource, TaskFile, TemplateTutor
from runner.logfile import LogWriter, RunState, inspect_log
from runner.redact import Redactor
from runner.step import StepSettings
from runner.students import OFFLINE, Student
from runner.tasks import check_source, check_task, task_step
from warehouse.core.errors import EndpointError, UsageError
from warehouse.core.logformat import SCHEMA_VERSION, RunEnd, RunHeader, StepRecord

Mode = Literal["new", "resume", "append"]
STUDENTS = ("llm", *OFFLINE)
LOG_MESSAGES = ("none", "counts", "text")  # what of each call's transcript a step logs


@dataclass(frozen=True)
class RunSpec:
    student: str
    model: str
    steps: int
    log: Path
    seed: int = 424242
    dials: Dials = field(default_factory=Dials)
    provider: str | None = None
    coverage_tau: float = 0.4
    num_options: int = 5
    task: str = "mcq"  # mcq | saq | alias_swap (runner/tasks.py)
    difficulty: str = "medium"
    domain: str = "general"
    task_file: str | None = None
    endpoint: EndpointConfig | None = None
    deadline_s: float | None = None
    tutor: str = "template"  # template | llm
    tutor_model: str | None = None
    tutor_endpoint: EndpointConfig | None = None
    plan: dict[str, Any] | None = None
    argv: tuple[str, ...] = ()
    guardrails: Guardrails | None = None
    log_messages: str = "text"

    def provider_name(self) -> str:
        if self.student != "llm":
            return "offline"
        return self.provider or (self.endpoint.provider if self.endpoint else "openai")


@dataclass
class RunResult:
    log: Path
    status: str  # complete | aborted | skipped
    run_id: str | None = None
    steps_logged: int = 0
    new_steps: int = 0
    correct: int = 0
    credited: int = 0
    reason: str | None = None


Progress = Callable[[RunSpec, int], None]


def execute(
    spec: RunSpec,
    mode: Mode = "new",
    *,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run (or resume) one run into spec.log. Raises EndpointError after logging the abort."""
    _check_spec(spec)
    redactor = Redactor()
    with LogWriter(spec.log, redactor) as writer:  # the endpoint's key joins the redactor it shares
        state = inspect_log(spec.log)
        if mode == "resume" and state.status == "complete":
            return RunResult(spec.log, "skipped", state.run_id, len(state.steps))
        if mode == "new" and state.status not in ("missing", "empty"):
            raise UsageError(f"{spec.log} already holds a run: pass --resume to continue it or --append")
        deadline = Deadline(spec.deadline_s)
        student = make_student(spec, redactor, deadline)
        source = item_source(spec, redactor, deadline)
        check_source(spec.task, source)
        writer.cut_torn_tail()
        resume = mode == "resume" and state.status in ("incomplete", "aborted")
        try:
            if resume:
                _check_same_run(spec, state)
            return _loop(
                spec, writer, student, source, state if resume else None, redactor, deadline, stop, progress
            )
        finally:
            for thing in (student, source):
                close = getattr(thing, "close", None)
                if close is not None:
                    close()


def _check_spec(spec: RunSpec) -> None:
    if spec.student not in STUDENTS:
        raise UsageError(f"unknown student {spec.student!r}: use one of {', '.join(STUDENTS)}")
    if spec.steps < 1:
        raise UsageError("--steps must be at least 1")
    if not 0.0 <= spec.coverage_tau <= 1.0:
        raise UsageError("--tau must be between 0 and 1")
    check_task(spec.task, spec.student)
    if spec.log_messages not in LOG_MESSAGES:
        raise UsageError(f"--log-messages {spec.log_messages!r}: use one of {', '.join(LOG_MESSAGES)}")


def _check_same_run(spec: RunSpec, state: RunState) -> None:
    header = state.header or {}
    student = header.get("student") or {}
    if state.planned != spec.steps or student.get("model") != spec.model:
        raise UsageError(
            f"{spec.log} holds an incomplete run of {student.get('model')} with {state.planned} steps, "
            f"not {spec.model} with {spec.steps}: move the file away or redo it"
        )
    task = (header.get("config") or {}).get("task", "mcq")
    if task != spec.task:
        raise UsageError(f"{spec.log} holds an incomplete {task} run, not {spec.task}: move it away")


def make_student(spec: RunSpec, redactor: Redactor, deadline: Deadline) -> Student:
    if spec.student != "llm":
        return OFFLINE[spec.student]()
    from runner.endpoint import resolve_endpoint
    from runner.llm import LLMStudent

    cfg = spec.endpoint or resolve_endpoint(spec.provider or "openai")
    d = spec.dials
    return LLMStudent(
        Endpoint(cfg, redactor, deadline),
        spec.model,
        idk=d.idk_enabled,
        instruction_header=d.instruction_header,
        top_p=d.top_p,
    )


def item_source(
    spec: RunSpec, redactor: Redactor | None = None, deadline: Deadline | None = None
) -> ItemSource:
    if spec.task_file:
        return TaskFile(spec.task_file)
    if spec.tutor == "llm":
        from runner.endpoint import resolve_endpoint
        from runner.tutor_llm import LLMTutor

        cfg = spec.tutor_endpoint or spec.endpoint or resolve_endpoint(spec.provider or "openai")
        model = spec.tutor_model or spec.model
        return LLMTutor(
            Endpoint(cfg, redactor or Redactor(), deadline),
            model,
            spec.seed,
            spec.num_options,
            spec.difficulty,
        )
    if spec.tutor != "template":
        raise UsageError(f"unknown tutor {spec.tutor!r}: use template or llm")
    return TemplateTutor(spec.seed, spec.num_options)


def _loop(
    spec: RunSpec,
    writer: LogWriter,
    student: Student,
    source: ItemSource,
    state: RunState | None,
    redactor: Redactor,
    deadline: Deadline,
    stop: threading.Event | None,
    progress: Progress | None,
) -> RunResult:
    before: dict[str, Any]
    if state is None:
        run_id, first, before = str(uuid.uuid4()), 0, {"cards": []}
        writer.write(header(spec, run_id, source, redactor))
    else:
        assert state.run_id is not None
        run_id, first = state.run_id, state.next_step
        before = (state.last_step or {}).get("fact_cards_after") or {"cards": []}
    result = RunResult(spec.log, "complete", run_id, steps_logged=first)
    settings = StepSettings(spec.dials, spec.coverage_tau, spec.seed, spec.log_messages)
    tokens_cum = _tokens_so_far(state)
    deadline.start()
    try:
        for step in range(first, spec.steps):
            if stop is not None and stop.is_set():
                return _abort(writer, result, "interrupted")
            if deadline.expired():
                return _abort(writer, result, "deadline reached")
            record = task_step(spec.task, student, source, step, run_id, before, settings)
            if spec.guardrails is not None:
                usage = record.get("student_usage")
                tokens = int(usage["total_tokens"] or 0) if usage else 0
                tokens_cum += tokens
                record["guardrail_alerts"] = spec.guardrails.alerts(tokens, tokens_cum)
            writer.write(record)
            _count(result, record)
            before = record.get("fact_cards_after") or before
            if progress:
                progress(spec, step + 1)
    except DeadlineReached:
        return _abort(writer, result, "deadline reached")
    except EndpointError as e:
        _abort(writer, result, redactor(e))
        raise EndpointError(f"{spec.log}: {redactor(e)}") from None
    except KeyboardInterrupt:
        _abort(writer, result, "interrupted")
        raise
    writer.write(run_end(run_id, "complete", None, result.steps_logged))
    return result


def _count(result: RunResult, record: StepRecord) -> None:
    result.steps_logged += 1
    result.new_steps += 1
    evaluation = record.get("evaluation") or record.get("grading") or {}
    result.correct += bool(evaluation.get("correct", evaluation.get("ok")))
    credit = evaluation.get("citations_evidence") or record.get("alias_evidence") or {}
    result.credited += bool(credit.get("credited"))


def _abort(writer: LogWriter, result: RunResult, reason: str) -> RunResult:
    writer.write(run_end(result.run_id or "", "aborted", reason, result.steps_logged))
    result.status, result.reason = "aborted", reason
    return result


def _tokens_so_far(state: RunState | None) -> int:
    """Student tokens of the steps already logged (a resumed run keeps its running sum)."""
    if state is None or not state.last_step:
        return 0
    alerts = state.last_step.get("guardrail_alerts") or {}
    run = alerts.get("tokens_run") if isinstance(alerts, dict) else None
    return int(run.get("tokens_cum") or 0) if isinstance(run, dict) else 0


def header(spec: RunSpec, run_id: str, source: ItemSource, redactor: Redactor) -> RunHeader:
    anonymized = spec.task_file is None
    return {
        "run_header": True,
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "ts": int(time.time()),
        "config": {
            "skill_id": None,
            "task": spec.task,
            "num_steps": spec.steps,
            "num_options": spec.num_options,
            "difficulty": spec.difficulty,
            "domain": spec.domain,
            "dials": spec.dials.as_dict(),
        },
        "anonymization": {"seed": spec.seed, "vocab_size": source.vocab_size} if anonymized else None,
        "guardrails": spec.guardrails.source if spec.guardrails else None,
        "student": {"type": spec.student, "provider": spec.provider_name(), "model": spec.model},
        "coverage_tau": spec.coverage_tau,
        "runner": {
            "name": "runs-warehouse",
            "version": runner_version(),
            "git_commit": git_commit(),
            "argv": [redactor(a) for a in spec.argv],
            "log_messages": spec.log_messages,
        },
        "plan": spec.plan,
    }


def run_end(
    run_id: str, status: Literal["complete", "aborted"], reason: str | None, steps_logged: int
) -> RunEnd:
    return {
        "run_end": True,
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "ts": int(time.time()),
        "status": status,
        "reason": reason,
        "steps_logged": steps_logged,
    }


@functools.lru_cache(maxsize=1)
def runner_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("runs-warehouse")
    except PackageNotFoundError:
        return "0+unknown"


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and len(commit) == 40 else None
