"""Inspect AI logs written by the real tool (its mock model, offline) ingested as runs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import orjson
import pytest

from ingest import ingest_runs
from tests.importer_support import QUESTIONS, write_inspect_log
from tests.ingest_support import rows, scalar

pytest.importorskip("inspect_ai")


@pytest.fixture(scope="module")
def eval_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_inspect_log(tmp_path_factory.mktemp("inspect_logs"))


def test_an_inspect_log_becomes_one_run_with_a_step_per_sample_and_epoch(
    tmp_path: Path, eval_log: Path
) -> None:
    runs = tmp_path / "runs"
    (runs / "inspect").mkdir(parents=True)
    shutil.copy(eval_log, runs / "inspect" / eval_log.name)
    (runs / "notes.json").write_text('{"not": "a result file"}')
    db = tmp_path / "w.duckdb"
    summary = ingest_runs(str(runs), str(db))
    assert summary.files_new == 1 and summary.files_skipped == 1  # notes.json: no importer claims it
    run = rows(db, "SELECT model, provider, task, steps_logged, status, runner_name, dials FROM runs")
    assert len(run) == 1
    model, provider, task, steps, status, runner_name, dials = run[0]
    assert (model, provider, task, steps, status, runner_name) == (
        "model",
        "mockllm",
        "arith",
        6,
        "complete",
        "inspect",
    )
    assert orjson.loads(dials) == {"temperature": 0.2}
    harness = scalar(db, "SELECT line ->> '$.runner.harness' FROM records WHERE kind = 'header'")
    assert harness == "inspect"
    steps = rows(db, "SELECT item_id, correct, credited, student_tokens FROM steps ORDER BY step")
    assert len(steps) == 6 and len({s[0] for s in steps}) == len(QUESTIONS)  # 3 items x 2 epochs
    # The mock answers 2+2 with 5: 4 of 6 correct; includes() is mechanical, so credited = correct.
    assert [s[1] for s in steps] == [True, False, True] * 2
    assert [s[2] for s in steps] == [s[1] for s in steps]
    assert all(s[3] is not None and s[3] > 0 for s in steps)
    # Lossless: the transcript and every unmapped sample field stay in the line.
    line = orjson.loads(scalar(db, "SELECT line FROM records WHERE kind = 'step' ORDER BY line_no LIMIT 1"))
    assert line["messages"][0]["content"] == QUESTIONS[0][0]
    assert (
        line["source"]["target"] == QUESTIONS[0][1] and line["source"]["scores"]["includes"]["value"] == "C"
    )
    ranking = rows(db, "SELECT model, n_steps, n_success FROM model_ranking")
    assert ranking == [("model", 6, 4)]


def test_an_inspect_log_is_reimported_whole_when_it_changes(tmp_path: Path, eval_log: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    target = runs / eval_log.name
    shutil.copy(eval_log, target)
    db = tmp_path / "w.duckdb"
    ingest_runs(str(runs), str(db))
    again = ingest_runs(str(runs), str(db))
    assert again.files_unchanged == 1 and again.files_new == 0
    with open(target, "ab") as fh:  # bytes appended after the zip's end: still a readable zip
        fh.write(b"\0" * 16)
    os.utime(target, ns=(1, 1))
    changed = ingest_runs(str(runs), str(db))
    assert changed.files_rewritten == 1 and changed.files_grown == 0
    assert scalar(db, "SELECT count(*) FROM steps") == 6


def test_a_broken_inspect_log_is_quarantined_with_the_reason(tmp_path: Path, eval_log: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    data = eval_log.read_bytes()
    (runs / "cut.eval").write_bytes(data[: len(data) // 2])  # a zip cut in half: no central directory
    db = tmp_path / "w.duckdb"
    summary = ingest_runs(str(runs), str(db))
    assert summary.files_new == 1 and summary.lines_quarantined == 1
    error = scalar(db, "SELECT error FROM quarantine")
    assert error.startswith("import failed: Inspect's reader cannot read this log")
    assert scalar(db, "SELECT count(*) FROM runs") == 0


def test_an_inspect_json_log_imports_like_the_eval_log(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    log = write_inspect_log(runs, epochs=1, log_format="json")
    assert log.suffix == ".json"
    db = tmp_path / "w.duckdb"
    summary = ingest_runs(str(runs), str(db))
    assert summary.files_new == 1 and summary.lines_quarantined == 0
    assert rows(db, "SELECT model, task, steps_logged, runner_name FROM runs") == [
        ("model", "arith", 3, "inspect")
    ]
    assert [r[0] for r in rows(db, "SELECT correct FROM steps ORDER BY step")] == [True, False, True]
