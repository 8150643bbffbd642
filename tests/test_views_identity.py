"""Run identity in the views: copies, status, header-vs-path attributes, implied dials, archive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ingest_support import dict_rows as rows
from synth_cases import write_cases

from ingest import ingest_runs
from warehouse.apps.archive import run_archive


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("identity")
    runs = root / "runs"
    write_cases(runs)
    db = root / "runs.duckdb"
    ingest_runs(str(runs), str(db))
    return runs, db


def run(db: Path, run_id: str) -> dict[str, Any]:
    found = rows(db, "SELECT * FROM runs WHERE run_id = ?", [run_id])
    assert len(found) == 1, found
    return found[0]


def test_recovered_copy_counts_once_and_lists_both_paths(db: tuple[Path, Path]) -> None:
    _, path = db
    r = run(path, "run-recovered")
    assert r["n_copies"] == 2 and r["steps_logged"] == 4 and r["status"] == "complete"
    assert r["path"].endswith("camp1/x.jsonl") and r["paths"][1].endswith("x.jsonl.recovered")
    n = rows(path, "SELECT count(*) AS n FROM steps WHERE run_id = 'run-recovered'")[0]["n"]
    assert n == 4


@pytest.mark.parametrize(
    ("run_id", "status"),
    [
        ("run-header-only", "header_only"),
        ("run-in-progress", "in_progress"),
        ("run-aborted", "incomplete"),
        ("run-first", "incomplete"),
        ("run-second", "complete"),
        ("run-old-era", "complete"),
    ],
)
def test_status(db: tuple[Path, Path], run_id: str, status: str) -> None:
    assert run(db[1], run_id)["status"] == status


def test_aborted_run_keeps_its_reason(db: tuple[Path, Path]) -> None:
    r = run(db[1], "run-aborted")
    assert (r["end_status"], r["end_reason"]) == ("aborted", "endpoint failed")


def test_header_wins_over_path_and_says_so(db: tuple[Path, Path]) -> None:
    new, old = run(db[1], "run-aborted"), run(db[1], "run-old-era")
    assert (new["model"], new["model_from"], new["tau"], new["tau_from"]) == ("bar", "header", 0.3, "header")
    assert (old["model"], old["model_from"], old["provider"]) == ("foo", "path_rule:compare", "deepinfra")
    assert (old["tau"], old["tau_from"], old["tau_rule"]) == (0.4, "path", "compare")
    assert new["campaign"] == old["campaign"] == "compare"


def test_old_era_dials_implied_off_and_listed(db: tuple[Path, Path]) -> None:
    r = run(db[1], "run-old-era")
    assert r["use_fact_cards"] is False and r["idk_enabled"] is False and r["best_of_n"] == 0
    assert "use_fact_cards" in r["dials_implied"] and r["apples"] is False
    assert r["fact_cards_budget"] is None  # not implied: the doc gives no value for the old era
    assert r["self_consistency_n"] == 1


def test_headerless_legacy_file_is_one_run_without_dials(db: tuple[Path, Path]) -> None:
    legacy = rows(db[1], "SELECT * FROM runs WHERE relpath = 'legacy/v0.jsonl'")
    assert len(legacy) == 1
    r = legacy[0]
    assert r["run_id"] is None and r["steps_logged"] == 3 and r["status"] == "incomplete"
    assert r["dials"] is None and r["self_consistency_n"] is None
    assert r["model"] is None and r["model_from"] == "none" and not r["counted"]


def test_summary_and_catalog_have_every_run_newest_first(db: tuple[Path, Path]) -> None:
    cat = rows(db[1], "SELECT * FROM catalog")
    assert len(cat) == len(rows(db[1], "SELECT run_key FROM runs")) == 8
    stamps = [c["run_ts"] for c in cat]
    assert stamps == sorted(stamps, reverse=True)
    header_only = next(c for c in cat if c["run_id"] == "run-header-only")
    assert header_only["steps_n"] == 0 and header_only["credited_final"] is None


def test_archived_runs_stay_in_the_catalog(db: tuple[Path, Path]) -> None:
    runs, path = db
    result = run_archive(path, runs, runs / "_archive", min_age_minutes=60)
    assert result.archive is not None
    cat = {c["run_id"] or c["run_key"]: c for c in rows(path, "SELECT * FROM catalog")}
    assert len(cat) == 8
    old = cat["run-old-era"]
    assert old["archived"] and old["path"].startswith("archive://") and old["mtime"] is None
    assert old["steps_n"] == 3 and old["model"] == "foo"
    assert not cat["run-in-progress"]["archived"]
