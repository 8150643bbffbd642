"""promptfoo results written by the real CLI (its echo provider, offline) ingested as runs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest

from ingest import ingest_runs
from tests.ingest_support import rows, scalar

FIXTURE = Path(__file__).parent / "fixtures" / "importers" / "promptfoo"


def _check(db: Path) -> None:
    runs = rows(db, "SELECT model, task, steps_logged, status, runner_name, dials FROM runs ORDER BY dials")
    assert [r[:5] for r in runs] == [("echo", "arith", 3, "complete", "promptfoo")] * 2
    assert sorted(orjson.loads(r[5])["prompt"] for r in runs) == [
        "Answer briefly: {{question}}",
        "{{question}}",
    ]
    # Per prompt: contains and icontains pass, equals "4" fails; all mechanical: credited = correct.
    steps = rows(db, "SELECT run_key, step, correct, credited, item_id FROM steps ORDER BY run_key, step")
    assert [s[2] for s in steps] == [True, False, True] * 2
    assert [s[3] for s in steps] == [s[2] for s in steps]
    assert len({s[4] for s in steps}) == 3  # the same 3 questions (vars.question) in both runs
    line = orjson.loads(scalar(db, "SELECT line FROM records WHERE kind = 'step' AND step = 1 LIMIT 1"))
    assert line["source"]["gradingResult"]["componentResults"][0]["assertion"] == {
        "type": "equals",
        "value": "4",
    }
    pairs = rows(db, "SELECT n_items, items_tied FROM paired_comparison('echo', 'echo', 'correct')")
    assert pairs == [(3, 3)]  # a side against itself: every one of the 3 items tied


def test_a_promptfoo_result_becomes_a_run_per_provider_and_prompt(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    shutil.copy(FIXTURE / "results.json", runs / "results.json")
    db = tmp_path / "w.duckdb"
    summary = ingest_runs(str(runs), str(db))
    assert summary.files_new == 1 and summary.lines_quarantined == 0
    _check(db)


def test_a_truncated_promptfoo_result_is_quarantined(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    data = (FIXTURE / "results.json").read_bytes()
    (runs / "results.json").write_bytes(data[: len(data) // 2])
    db = tmp_path / "w.duckdb"
    summary = ingest_runs(str(runs), str(db))
    assert summary.files_new == 1 and summary.lines_quarantined == 1
    assert scalar(db, "SELECT error FROM quarantine").startswith(
        "import failed: promptfoo file cannot be read"
    )


@pytest.mark.skipif(
    not os.environ.get("PROMPTFOO_BIN"), reason="set PROMPTFOO_BIN to a promptfoo CLI to run it"
)
def test_the_real_promptfoo_cli_writes_what_the_importer_reads(tmp_path: Path) -> None:
    work = tmp_path / "pf"
    (work / "runs").mkdir(parents=True)
    shutil.copy(FIXTURE / "promptfooconfig.yaml", work / "promptfooconfig.yaml")
    env = {**os.environ, "PROMPTFOO_DISABLE_TELEMETRY": "1", "PROMPTFOO_DISABLE_UPDATE": "1"}
    env["PROMPTFOO_CONFIG_DIR"] = str(work / ".pf")
    command = [os.environ["PROMPTFOO_BIN"], "eval", "-c", "promptfooconfig.yaml", "-o", "runs/results.json"]
    subprocess.run([*command, "--no-cache", "--no-progress-bar"], cwd=work, env=env, check=False, timeout=300)
    db = tmp_path / "w.duckdb"
    ingest_runs(str(work / "runs"), str(db))
    _check(db)
