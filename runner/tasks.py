"""Steps of the task types beyond MCQ, in the shapes the simulator logs them.

saq        -- a short-answer question behind each tutor item: self_consistency_n drafts, each graded
              by the offline tutor on the item's key points; the best draft is the answer.
alias_swap -- alias families re-asked every two steps: phase A (step 2k) asks an item with the
              rule's context; phase B (step 2k+1) asks the same rule under new entity names with
              only the notes memory (the correct answers of earlier steps when accumulate_notes is
              on). Phase-B steps carry alias_evidence (coverage, witness, credit against τ).
code, proof, table_qa -- small fixed exercises checked mechanically (runner/exercises.py).
Only the offline students answer these tasks; the records keep the runner's schema_version and
per-call `calls` like MCQ steps do.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from runner import evaluate as ev
from runner import exercises as ex
from runner.items import Item, ItemSource
from runner.step import StepSettings, learn, majority, run_step, usage, use
from runner.students import StepContext, Student, explain
from warehouse.core.errors import UsageError
from warehouse.core.logformat import SCHEMA_VERSION, StepRecord

TASKS = ("mcq", "saq", "alias_swap", "code", "proof", "table_qa")


def check_task(task: str, student: str) -> None:
    if task not in TASKS:
        raise UsageError(f"unknown task {task!r}: use one of {', '.join(TASKS)}")
    if task != "mcq" and student == "llm":
        raise UsageError(f"--task {task} runs with the offline students only (oracle, lexical, random)")


def check_source(task: str, source: ItemSource) -> None:
    if task == "alias_swap" and not hasattr(source, "alias_pair"):
        raise UsageError("--task alias_swap needs the built-in tutor (no --task-file, no LLM tutor)")


def task_step(
    task: str,
    student: Student,
    source: ItemSource,
    step: int,
    run_id: str,
    before: dict[str, Any],
    s: StepSettings,
) -> StepRecord:
    if task == "saq":
        return saq_step(student, source, step, run_id, s)
    if task == "alias_swap":
        return alias_step(student, source, step, run_id, s)
    if task in ex.EXERCISES:
        return exercise_step(task, student, step, run_id, s)
    return run_step(student, source, step, run_id, before, s)


def _head(run_id: str, step: int) -> StepRecord:
    return {"schema_version": SCHEMA_VERSION, "run_id": run_id, "step": step, "ts": int(time.time())}


def _tail(record: StepRecord, start: float, ctx: StepContext, s: StepSettings) -> StepRecord:
    record["duration_ms"] = round((time.perf_counter() - start) * 1000, 3)
    record["student_usage"] = usage(ctx.calls, "student")
    record["tutor_usage"] = usage(ctx.calls, "tutor")
    record["calls"] = [c.as_log(s.log_messages) for c in ctx.calls]
    return record


# ------------------------------------------------------------------ SAQ


def saq_step(student: Student, source: ItemSource, step: int, run_id: str, s: StepSettings) -> StepRecord:
    start = time.perf_counter()
    ctx = StepContext(step=step, seed=s.seed)
    item = source.item(step)
    stem = f"Explain in one sentence: {item.stem}"
    points = ev.key_points(item)
    drafts: list[dict[str, Any]] = []
    for d in range(max(1, s.dials.self_consistency_n)):
        text = explain(student, item, d, ctx)
        drafts.append({"answer": text, "grading": ev.grade_saq(item, points, text)})
    best = max(range(len(drafts)), key=lambda i: (drafts[i]["grading"]["score"], -i))
    record = _head(run_id, step)
    record["task"] = {"type": "saq", "stem": stem, "expected_points": points}
    record["presented_stem"] = f"CONTEXT:\n{item.context}\n\nQUESTION: {stem}"
    record["answer"] = {"student_answer": drafts[best]["answer"]}
    record["grading"] = drafts[best]["grading"]
    record["saq_drafts"] = drafts
    return _tail(record, start, ctx, s)


# ------------------------------------------------------------------ alias swap


def alias_item(source: ItemSource, step: int) -> tuple[str, str, Item]:
    """(family_id, phase, item) asked at `step`: family step // 2, phase A on even steps."""
    family, a, b = source.alias_pair(step // 2)  # type: ignore[attr-defined]
    return str(family), "A" if step % 2 == 0 else "B", a if step % 2 == 0 else b


def notes_before(source: ItemSource, step: int, on: bool) -> list[str]:
    """The notes memory at `step`: the correct answer of every earlier step (accumulate_notes)."""
    if not on:
        return []
    out = []
    for earlier in range(step):
        item = alias_item(source, earlier)[2]
        out.append(f"Correct: {item.options[item.correct_index]}")
    return out


def alias_step(student: Student, source: ItemSource, step: int, run_id: str, s: StepSettings) -> StepRecord:
    start = time.perf_counter()
    ctx = StepContext(step=step, seed=s.seed)
    family, phase, item = alias_item(source, step)
    notes = notes_before(source, step, s.dials.accumulate_notes)
    memory = "\n".join(notes)
    passage = item.context if phase == "A" else ""
    sentences = (item.sentences if phase == "A" else ()) + tuple(notes)
    readable = tuple(x if x.endswith((".", "!", "?")) else f"{x}." for x in sentences)
    seen = dataclasses.replace(item, context=" ".join(readable), sentences=readable)
    cards = learn(student, seen, s.dials, ctx)
    votes = use(student, seen, cards, s.dials, ctx)
    choice, _ = majority(votes)
    correct = choice is not None and choice == item.correct_index
    record = _head(run_id, step)
    record["task"] = {
        "type": "mcq",
        "stem": item.stem,
        "options": list(item.options),
        "correct_index": item.correct_index,
    }
    record["presented_stem"] = f"CONTEXT:\n{passage}\n{memory}\n\nQUESTION: {item.stem}"
    record["answer"] = {"chosen_index": choice, "votes": [v.choice for v in votes]}
    record["evaluation"] = {
        "correct": correct,
        "chosen_index": choice,
        "correct_index": item.correct_index,
        "abstained": choice is None,
    }
    record["alias"] = {"family_id": family, "phase": phase}
    if phase == "B":
        record["alias_evidence"] = ev.alias_evidence(item, choice, memory, s.tau)
    return _tail(record, start, ctx, s)


# ------------------------------------------------------------------ code, proof, table_qa


def exercise_step(task: str, student: Student, step: int, run_id: str, s: StepSettings) -> StepRecord:
    start = time.perf_counter()
    ctx = StepContext(step=step, seed=s.seed)
    item = ex.exercise(task, step)
    text = ex.choose(student, item, s.seed, step)
    record = _head(run_id, step)
    record["task"] = item.task_block()
    record["presented_stem"] = item.presented_stem()
    record["answer"] = ex.answer_block(item, text)
    record["evaluation"] = ex.evaluate(item, text)
    return _tail(record, start, ctx, s)
