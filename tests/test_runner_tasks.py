"""SAQ and alias-swap runs of the offline students: grading and alias evidence on hand-worked
items, the logged shapes, resume, plans, and the views on them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ingest import ingest_runs
from runner import evaluate as ev
from runner import exercises as ex
from runner.dials import Dials
from runner.items import Item
from runner.plan import expand
from runner.run import RunSpec, execute
from warehouse.core.errors import ConfigError, UsageError
from warehouse.store.db import open_reader

ITEM = Item(
    item_id="t",
    stem="Under QRBV-70, what happens to a ZQ-49?",
    options=("ZQ-49 shifted left by 4", "ZQ-49 mapped right by 6", "TP-11 shifted left by 4"),
    correct_index=0,
    context="Under QRBV-70, every ZQ-49 is shifted left by 4.",
    sentences=("Under QRBV-70, every ZQ-49 is shifted left by 4.",),
    points=(("transform-action", "shifted"), ("transform-direction", "left"), ("transform-number", "4")),
)

SAQ_KEYS = ["run_id", "step", "ts", "task", "presented_stem", "answer", "grading", "saq_drafts"]
ALIAS_KEYS = ["run_id", "step", "ts", "task", "presented_stem", "answer", "evaluation", "alias"]
USAGE_KEYS = ["duration_ms", "student_usage", "tutor_usage"]


def test_key_points_and_grading_by_hand() -> None:
    # "shifted", "left", "4" each appear in 1 of the 2 distractors (TP-11 ...): half -> optional
    assert ev.key_points(ITEM) == [
        {"key": "transform-action", "required": False},
        {"key": "transform-direction", "required": False},
        {"key": "transform-number", "required": False},
    ]
    points = [
        {"key": "transform-action", "required": True},
        {"key": "transform-direction", "required": False},
    ]
    full = ev.grade_saq(ITEM, points, "It is shifted left.")
    assert (full["score"], full["correct"], full["found_points"], full["misconception_tags"]) == (
        1.0,
        True,
        ["transform-action", "transform-direction"],
        [],
    )
    # only the optional point (weight 1 of 3), plus a distractor's words (mapped, right): 1/3 - 0.25
    wrong = ev.grade_saq(ITEM, points, "It is mapped right, then left.")
    assert wrong["score"] == round(1 / 3 - 0.25, 3) and not wrong["correct"]
    assert (wrong["missing_points"], wrong["misconception_tags"]) == (["transform-action"], ["wrong-rule"])
    none = ev.grade_saq(ITEM, points, "No idea.")
    assert (none["score"], none["misconception_tags"]) == (0.0, ["no-key-points"])


def test_alias_evidence_by_hand() -> None:
    # T3 drops tokens under 3 characters: T3(gold "ZQ-49 shifted left by 4") = {shifted, left}
    memory = "Correct: AB-12 shifted right by 4"  # T3 = {correct, shifted, right}
    # coverage 1/2; overlaps: option 0 {shifted}, option 1 {right}, option 2 {shifted}: tie -> index 2
    assert ev.alias_evidence(ITEM, 0, memory, tau=0.5) == {
        "coverage": 0.5,
        "witness_pass": False,
        "credited": False,
    }
    # full coverage, but option 2 ties option 0 on {shifted, left} and the higher index wins
    tied = ev.alias_evidence(ITEM, 0, "Correct: ZQ-49 shifted left by 4", tau=0.5)
    assert tied == {"coverage": 1.0, "witness_pass": False, "credited": False}
    two = Item("u", "Where does KQ-12 go?", ("Shifted left twice", "Mapped right"), 0, "", ())
    assert ev.alias_evidence(two, 0, "Correct: shifted left", tau=0.6) == {
        "coverage": round(2 / 3, 6),
        "witness_pass": True,
        "credited": True,
    }
    assert ev.alias_evidence(two, 0, "Correct: shifted left", tau=0.7)["credited"] is False  # below tau
    assert ev.alias_evidence(two, 1, "Correct: shifted left", tau=0.6)["credited"] is False  # wrong answer


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def spec(tmp: Path, student: str, task: str, steps: int, **dials: Any) -> RunSpec:
    return RunSpec(
        student=student,
        model=student,
        steps=steps,
        log=tmp / f"{student}_{task}.jsonl",
        task=task,
        dials=Dials().replace(**dials),
    )


def test_saq_run_writes_the_logged_shape(tmp_path: Path) -> None:
    result = execute(spec(tmp_path, "lexical", "saq", 4, self_consistency_n=3))
    records = lines(result.log)
    assert records[0]["config"]["task"] == "saq" and records[-1]["run_end"] is True
    for r in records[1:-1]:
        keys = [k for k in r if k not in ("schema_version", "calls")]
        assert keys == SAQ_KEYS + USAGE_KEYS
        assert r["task"]["type"] == "saq" and r["task"]["expected_points"]
        assert set(r["answer"]) == {"student_answer"} and len(r["saq_drafts"]) == 3
        assert set(r["grading"]) == {
            "score",
            "correct",
            "found_points",
            "missing_points",
            "misconception_tags",
            "feedback",
        }
        best = max(d["grading"]["score"] for d in r["saq_drafts"])
        assert r["grading"]["score"] == best and 0.0 <= best <= 1.0
        assert "evaluation" not in r
    assert result.correct == sum(r["grading"]["correct"] for r in records[1:-1])


def test_alias_run_alternates_phases_and_credits_phase_b(tmp_path: Path) -> None:
    result = execute(spec(tmp_path, "oracle", "alias_swap", 6, accumulate_notes=True))
    steps = lines(result.log)[1:-1]
    assert [s["alias"]["phase"] for s in steps] == ["A", "B"] * 3
    for a, b in zip(steps[::2], steps[1::2], strict=True):
        assert a["alias"]["family_id"] == b["alias"]["family_id"]
        assert "alias_evidence" not in a and set(b["alias_evidence"]) == {
            "coverage",
            "witness_pass",
            "credited",
        }
    for i, s in enumerate(steps):
        keys = [k for k in s if k not in ("schema_version", "calls")]
        assert keys == ALIAS_KEYS + (["alias_evidence"] if i % 2 else []) + USAGE_KEYS
        assert s["task"]["type"] == "mcq" and s["evaluation"]["correct"]  # the oracle
        notes = [f"Correct: {p['task']['options'][p['task']['correct_index']]}" for p in steps[:i]]
        assert s["presented_stem"].count("Correct: ") == len(notes)
        assert all(n in s["presented_stem"] for n in notes)
    assert result.credited == sum(s["alias_evidence"]["credited"] for s in steps[1::2])


def test_alias_resume_asks_and_credits_exactly_as_uninterrupted(tmp_path: Path) -> None:
    whole = execute(spec(tmp_path / "a", "lexical", "alias_swap", 6, accumulate_notes=True))
    cut = spec(tmp_path / "b", "lexical", "alias_swap", 6, accumulate_notes=True)
    execute(cut)
    text = cut.log.read_text().splitlines(keepends=True)
    cut.log.write_text("".join(text[:4]) + text[4][:30])  # header, 3 steps, a torn fourth
    execute(cut, "resume")
    pick = ("step", "task", "presented_stem", "answer", "evaluation", "alias", "alias_evidence")
    strip = lambda rs: [{k: r.get(k) for k in pick} for r in rs if "step" in r]
    assert strip(lines(cut.log)) == strip(lines(whole.log))


def test_plans_take_a_task_and_bad_combinations_fail_clearly(tmp_path: Path) -> None:
    plan = {
        "name": "t",
        "models": [{"student": "oracle"}],
        "stages": [{"name": "s", "steps": 2, "task": "saq"}, {"name": "m", "steps": 2}],
    }
    assert [s.task for s in expand(plan, tmp_path)] == ["saq", "mcq"]
    with pytest.raises(ConfigError):
        expand({**plan, "stages": [{"name": "s", "steps": 2, "tasks": "saq"}]}, tmp_path)
    with pytest.raises(UsageError, match="offline students"):
        execute(RunSpec(student="llm", model="m", steps=1, log=tmp_path / "l.jsonl", task="saq"))
    items = tmp_path / "items.jsonl"
    items.write_text('{"stem": "q", "options": ["a", "b"], "correct_index": 0}\n')
    with pytest.raises(UsageError, match="built-in tutor"):
        execute(
            RunSpec(
                student="oracle",
                model="oracle",
                steps=1,
                log=tmp_path / "x.jsonl",
                task="alias_swap",
                task_file=str(items),
            )
        )
    with pytest.raises(UsageError, match="unknown task"):
        execute(RunSpec(student="oracle", model="oracle", steps=1, log=tmp_path / "y.jsonl", task="essay"))


def test_views_on_runner_logs_match_the_logs(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    alias = execute(spec(runs, "lexical", "alias_swap", 10, accumulate_notes=True, self_consistency_n=3))
    saq = execute(spec(runs, "random", "saq", 5, self_consistency_n=2))
    db = tmp_path / "runs.duckdb"
    ingest_runs(str(runs), str(db))
    want: dict[str, dict[str, int]] = {}
    for s in lines(alias.log)[1:-1]:
        fam = want.setdefault(s["alias"]["family_id"], {"a": 0, "ac": 0, "b": 0, "bc": 0, "k": 0})
        ph = s["alias"]["phase"].lower()
        fam[ph] += 1
        fam[ph + "c"] += s["evaluation"]["correct"]
        fam["k"] += (s.get("alias_evidence") or {}).get("credited", False)
    con = open_reader(db)
    try:
        got = con.execute(
            "SELECT family_id, a_n, a_correct, b_total, b_correct, b_credited FROM alias_families"
        ).fetchall()
        drafts = con.execute("SELECT steps_n, first_mean, best_mean FROM saq_drafts").fetchall()
    finally:
        con.close()
    assert {g[0]: g[1:] for g in got} == {
        f: (v["a"], v["ac"], v["b"], v["bc"], v["k"]) for f, v in want.items()
    }
    recs = lines(saq.log)[1:-1]
    first = sum(r["saq_drafts"][0]["grading"]["score"] for r in recs) / 5
    best = sum(r["grading"]["score"] for r in recs) / 5
    assert drafts == [(5, pytest.approx(first), pytest.approx(best))]


def test_exercise_checks_by_hand() -> None:
    tests = [([2, 3], 5), ([-1, 4], 3)]
    assert ex.run_code("add", "def add(a, b):\n    return a - b\n", tests) == {
        "ok": False,
        "passed": 0,
        "total": 2,
        "results": [
            {"args": [2, 3], "kwargs": {}, "ok": False, "expected": 5, "got": -1},
            {"args": [-1, 4], "kwargs": {}, "ok": False, "expected": 3, "got": -5},
        ],
    }
    assert ex.run_code("add", "def add(a, b)\n    return a\n", tests)["error"].startswith("SyntaxError")
    assert ex.run_code("add", "def plus(a, b):\n    return a + b\n", tests) == {
        "ok": False,
        "error": "NameError: add is not defined",
    }
    raising = ex.run_code("add", "def add(a, b):\n    return a + b if b != 3 else a / 0\n", tests)
    assert (raising["passed"], raising["results"][0]["error"]) == (1, "ZeroDivisionError: division by zero")
    proof = ex.exercise("proof", 0)
    assert ex.evaluate(proof, "Let them be 2m and 2n.") == {"ok": False, "missing_keywords": ["2(m+n)"]}
    table = ex.exercise("table_qa", 1)  # the north region's total
    assert ex.evaluate(table, " 14 ") == {"ok": True, "expected": "14", "got": "14"}


@pytest.mark.parametrize(
    ("task", "answer_key", "evaluation_keys"),
    [
        ("code", "code", {"ok", "passed", "total", "results"}),
        ("proof", "step", {"ok", "missing_keywords"}),
        ("table_qa", "answer", {"ok", "expected", "got"}),
    ],
)
def test_exercise_runs_write_the_logged_shape(
    tmp_path: Path, task: str, answer_key: str, evaluation_keys: set[str]
) -> None:
    result = execute(spec(tmp_path, "oracle", task, 3))
    records = lines(result.log)
    assert records[0]["config"]["task"] == task and result.correct == 3
    for r in records[1:-1]:
        keys = [k for k in r if k not in ("schema_version", "calls")]
        assert keys == ["run_id", "step", "ts", "task", "presented_stem", "answer", "evaluation", *USAGE_KEYS]
        assert r["task"]["type"] == task and list(r["answer"]) == [answer_key]
        assert set(r["evaluation"]) == evaluation_keys and r["evaluation"]["ok"] is True
    wrong = execute(spec(tmp_path / "r", "random", task, 3))
    assert wrong.correct == sum(bool(r["evaluation"]["ok"]) for r in lines(wrong.log)[1:-1])
