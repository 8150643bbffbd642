"""The v2 statistics' contracts: BH ties, validated arguments, τ never pooled, scope arguments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from synth import Design, write_corpus

from ingest import ingest_runs
from warehouse.store.db import open_reader


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("v2")
    # sc=3 and sc=5 have the same true rate and, with shared items, the same outcomes: tied p-values
    ties = Design(
        base={"m-tie": 0.5},
        grid={"self_consistency_n": (1, 3, 5)},
        effects={("*", "self_consistency_n", 3): 0.12, ("*", "self_consistency_n", 5): 0.12},
        runs=3,
        steps=30,
        shared_items=True,
        campaign="ties",
    )
    low_tau = Design(base={"m-tau": 0.6}, grid={"q_min": (1,)}, runs=2, steps=20, tau=0.35, campaign="t35")
    high_tau = Design(base={"m-tau": 0.4}, grid={"q_min": (1,)}, runs=2, steps=20, tau=0.4, campaign="t40")
    for design, seed in ((ties, 1), (low_tau, 2), (high_tau, 3)):
        write_corpus(root / "runs", design, seed)
    path = root / "runs.duckdb"
    ingest_runs(str(root / "runs"), str(path))
    return path


def rows(db: Path, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    con = open_reader(db)
    try:
        cur = con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def test_tied_p_values_get_the_same_q(db: Path) -> None:
    got = rows(db, "SELECT value, p_value, q_value FROM dial_effects WHERE model = 'm-tie' AND NOT is_ref")
    assert len(got) == 2 and got[0]["p_value"] == got[1]["p_value"] < 1
    assert got[0]["q_value"] == got[1]["q_value"] == pytest.approx(got[0]["p_value"])  # m=2, rank 2


def test_tau_values_are_ranked_apart_never_pooled(db: Path) -> None:
    got = rows(db, "SELECT tau, rank, n_steps, rate FROM model_ranking WHERE model = 'm-tau' ORDER BY tau")
    assert [r["tau"] for r in got] == [0.35, 0.4] and all(r["n_steps"] == 40 for r in got)
    assert got[0]["rank"] == 1  # alone at tau 0.35; at 0.4 it is ranked with m-tie only
    settings = rows(db, "SELECT DISTINCT tau FROM best_settings WHERE model = 'm-tau'")
    assert len(settings) == 2


def test_scope_arguments_limit_every_statistic(db: Path) -> None:
    got = rows(db, "SELECT model, tau, n_steps FROM model_ranking_for(campaign := 't35')")
    assert [(r["model"], r["tau"], r["n_steps"]) for r in got] == [("m-tau", 0.35, 40)]
    assert rows(db, "SELECT * FROM best_settings_for(campaign := 'nope')") == []
    keys = [r["run_key"] for r in rows(db, "SELECT run_key FROM runs WHERE campaign = 't40'")]
    runs = "[" + ",".join(f'"{k}"' for k in keys) + "]"
    got = rows(db, "SELECT model, n_steps FROM model_ranking_for(runs := ?)", [runs])
    assert [(r["model"], r["n_steps"]) for r in got] == [("m-tau", 40)]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT * FROM paired_comparison('orcle', 'm-tie')", "'orcle' matches no model"),
        ("SELECT * FROM paired_comparison('m-tie', 'm-tau', 'credit')", "unknown metric 'credit'"),
        ("SELECT * FROM model_ranking_for(metric := 'acc')", "unknown metric 'acc'"),
        ("SELECT * FROM best_settings_for(metric := 'acc')", "unknown metric 'acc'"),
        ("SELECT * FROM dial_effects_for(metric := 'acc')", "unknown metric 'acc'"),
    ],
)
def test_bad_arguments_are_errors_in_sql(db: Path, sql: str, message: str) -> None:
    with pytest.raises(duckdb.Error, match=message):
        rows(db, sql)
