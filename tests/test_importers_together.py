"""The issue's check: one folder with an Inspect log, lm-eval samples and a promptfoo result is
ingested as runs of the right models and item counts, and the ranking and `warehouse compare`
work across harnesses, pairing the same questions."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from ingest import ingest_runs
from tests.importer_support import write_inspect_log
from tests.ingest_support import rows
from warehouse.cli import cli

pytest.importorskip("inspect_ai")
FIXTURES = Path(__file__).parent / "fixtures" / "importers"


def test_three_harnesses_meet_in_one_warehouse(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    (runs / "promptfoo").mkdir(parents=True)
    write_inspect_log(runs / "inspect", epochs=1)
    shutil.copy(FIXTURES / "promptfoo" / "results.json", runs / "promptfoo" / "results.json")
    shutil.copytree(FIXTURES / "lm_eval" / "out", runs / "lm_eval")
    db = tmp_path / "w.duckdb"
    summary = ingest_runs(str(runs), str(db))
    assert summary.lines_quarantined == 0
    got = rows(
        db,
        "SELECT harness, model, count(*), sum(steps_logged) FROM runs GROUP BY ALL ORDER BY 1",
    )
    assert got == [("inspect", "model", 1, 3), ("lm-eval", "dummy", 1, 3), ("promptfoo", "echo", 2, 6)]
    # The same three questions: one item_id each, whichever harness asked them.
    assert rows(db, "SELECT count(DISTINCT item_id) FROM steps") == [(3,)]
    ranking = rows(db, "SELECT model, n_steps FROM model_ranking ORDER BY model")
    assert ranking == [("dummy", 3), ("echo", 6), ("model", 3)]
    result = CliRunner().invoke(
        cli, ["compare", "model", "echo", "--db", str(db), "--metric", "correct", "--json"]
    )
    assert result.exit_code == 0, result.output
    (compared,) = orjson.loads(result.stdout)
    assert compared["n_items"] == 3
    # The mock model misses 2+2; echo fails the "equals 4" test: they agree on every item.
    assert (compared["items_a_better"], compared["items_tied"], compared["items_b_better"]) == (0, 3, 0)
