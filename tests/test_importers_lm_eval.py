"""lm-evaluation-harness `--log_samples` output written by the real tool (its dummy model) ingested
as a run per (model, task)."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson

from ingest import ingest_runs
from tests.ingest_support import rows, scalar

OUT = Path(__file__).parent / "fixtures" / "importers" / "lm_eval" / "out"


def test_lm_eval_samples_become_a_run_of_the_model_and_task(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(OUT, runs / "lm")
    db = tmp_path / "w.duckdb"
    summary = ingest_runs(str(runs), str(db))
    # The samples file is imported; the results file is read with it, not as a run of its own.
    assert summary.files_new == 1 and summary.files_skipped == 1 and summary.lines_quarantined == 0
    run = rows(db, "SELECT model, provider, task, steps_logged, status, runner_name, dials FROM runs")
    assert [r[:6] for r in run] == [("dummy", "dummy", "arith", 3, "complete", "lm-eval")]
    assert orjson.loads(run[0][6])["num_fewshot"] == 0
    steps = rows(db, "SELECT correct, credited, item_id IS NOT NULL FROM steps ORDER BY step")
    assert steps == [(False, False, True)] * 3  # the dummy model answers "lol"
    line = orjson.loads(scalar(db, "SELECT line FROM records WHERE kind = 'step' ORDER BY line_no LIMIT 1"))
    assert line["task"]["stem"] == "What is 1+1?" and line["answer"]["text"] == "lol"
    assert line["source"]["target"] == "2" and line["source"]["verdict_metric"] == "exact_match"
    header = orjson.loads(scalar(db, "SELECT line FROM records WHERE kind = 'header'"))
    assert header["source"]["lm_eval_version"] == "0.4.13"


def test_a_samples_file_with_a_broken_line_is_quarantined_with_the_reason(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(OUT, runs / "lm")
    samples = next((runs / "lm").glob("samples_*.jsonl"))
    samples.write_bytes(samples.read_bytes() + b'{"doc_id": 3, "doc": {"question"\n')
    db = tmp_path / "w.duckdb"
    summary = ingest_runs(str(runs), str(db))
    assert summary.lines_quarantined == 1
    assert scalar(db, "SELECT error FROM quarantine").startswith("import failed: line 4 is not JSON")


def test_a_task_scored_under_two_filters_gives_a_run_per_filter(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(OUT, runs / "lm")
    samples = next((runs / "lm").glob("samples_*.jsonl"))
    lines = [orjson.loads(line) for line in samples.read_bytes().splitlines()]
    # As lm-eval writes a task with two filters (gsm8k's strict-match and flexible-extract).
    both = [{**doc, "filter": name} for doc in lines for name in ("strict-match", "flexible-extract")]
    samples.write_bytes(b"".join(orjson.dumps(doc) + b"\n" for doc in both))
    db = tmp_path / "w.duckdb"
    ingest_runs(str(runs), str(db))
    got = rows(db, "SELECT json_extract_string(dials, '$.filter'), steps_logged FROM runs ORDER BY 1")
    assert got == [("flexible-extract", 3), ("strict-match", 3)]
