"""The scope macros steps_in / runs_in: campaign, time window and run list, each checked against
the same selection made directly on the steps and runs_summary views."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest import ingest_runs
from warehouse.store.db import open_reader

FIXTURE_RUNS = Path(__file__).parent / "fixtures" / "runs"
STEPS = "(SELECT * FROM steps WHERE counted)"  # what steps_in() reads by default
RUNS = "(SELECT * FROM runs_summary WHERE counted)"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scope") / "runs.duckdb"
    ingest_runs(str(FIXTURE_RUNS), str(path))
    return path


def one(db: Path, sql: str) -> int:
    con = open_reader(db)
    try:
        row = con.execute(sql).fetchone()
        assert row is not None
        return int(row[0])
    finally:
        con.close()


def test_defaults_select_every_counted_run(db: Path) -> None:
    # counted: no duplicate_of and a model; the include flags add the others back
    assert one(db, "SELECT count(*) FROM steps_in()") == one(db, f"SELECT count(*) FROM {STEPS}") > 0
    assert one(db, "SELECT count(*) FROM runs_in()") == one(db, f"SELECT count(*) FROM {RUNS}") > 0
    everything = "include_duplicates := true, include_unattributed := true"
    assert one(db, f"SELECT count(*) FROM steps_in({everything})") == one(db, "SELECT count(*) FROM steps")
    assert one(db, f"SELECT count(*) FROM runs_in({everything})") == one(
        db, "SELECT count(*) FROM runs_summary"
    )
    assert one(db, "SELECT count(*) FROM runs_summary WHERE NOT counted") > 0  # the fixtures have some


def test_campaign_selects_that_campaign_only(db: Path) -> None:
    con = open_reader(db)
    try:
        campaigns = [
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT campaign FROM {STEPS} WHERE campaign IS NOT NULL"
            ).fetchall()
        ]
    finally:
        con.close()
    assert len(campaigns) >= 2
    for name in campaigns:
        direct = one(db, f"SELECT count(*) FROM {STEPS} WHERE campaign = '{name}'")
        assert one(db, f"SELECT count(*) FROM steps_in(campaign := '{name}')") == direct > 0
    assert one(db, "SELECT count(*) FROM steps_in(campaign := 'no-such-campaign')") == 0


def test_time_window(db: Path) -> None:
    con = open_reader(db)
    try:
        row = con.execute("SELECT median(run_started_at)::VARCHAR FROM steps").fetchone()
    finally:
        con.close()
    assert row is not None and row[0] is not None
    cut = row[0]
    before = one(db, f"SELECT count(*) FROM {STEPS} WHERE run_started_at < '{cut}'")
    after = one(db, f"SELECT count(*) FROM {STEPS} WHERE run_started_at >= '{cut}'")
    assert one(db, f"SELECT count(*) FROM steps_in(until := '{cut}')") == before
    assert one(db, f"SELECT count(*) FROM steps_in(since := '{cut}')") == after
    assert before + after <= one(db, "SELECT count(*) FROM steps_in()")


def test_run_list(db: Path) -> None:
    con = open_reader(db)
    try:
        keys = [r[0] for r in con.execute(f"SELECT run_key FROM {RUNS} ORDER BY run_key LIMIT 2").fetchall()]
    finally:
        con.close()
    listed = json.dumps(keys).replace("'", "''")
    direct = one(db, f"SELECT count(*) FROM {STEPS} WHERE run_key IN ('" + "','".join(keys) + "')")
    assert one(db, f"SELECT count(*) FROM steps_in(runs := '{listed}')") == direct
    assert one(db, f"SELECT count(*) FROM runs_in(runs := '{listed}')") == len(keys)
    assert one(db, "SELECT count(*) FROM runs_in(runs := '[]')") == 0
