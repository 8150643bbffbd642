"""model_profiles and its use by `warehouse defaults`.

Synthetic truth (tests/synth.py): a non-credited step is half "right answer, evidence fails" (half
of those fail the witness) and half a wrong answer that fails the witness. At credited 0.2 that
gives witness ~ 0.2 + 0.8 * 0.25 = 0.4 < 0.6 and acc - credited ~ 0.4 > 0.1: witness-limited by a
wide margin; at credited 0.9, witness ~ 0.93: not. The rule macros are checked on exact values.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import duckdb
import pytest
from synth import Design, write_corpus

from ingest import ingest_runs
from warehouse.cli import main
from warehouse.store.db import open_reader
from warehouse.store.migrate import read_sql


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("profiles")
    design = Design(
        base={"m-weak": 0.2, "m-strong": 0.9}, grid={"fact_cards_budget": (10,)}, runs=8, steps=40
    )
    write_corpus(root / "runs", design, 11)
    ingest_runs(str(root / "runs"), str(root / "runs.duckdb"))
    return root / "runs.duckdb"


def test_rule_verdicts_follow_the_interval() -> None:
    con = duckdb.connect()
    con.execute(read_sql("views/stats_macros_v1.sql"))
    con.execute(read_sql("views/cluster_stats_v1.sql"))
    con.execute(read_sql("views/model_profiles_v1.sql").split("CREATE OR REPLACE VIEW")[0])
    got = con.execute(
        "SELECT _rule_below(0.3, 0.45, 0.2, 0.5), _rule_below(0.3, 0.55, 0.2, 0.5),"
        " _rule_below(0.7, 0.8, 0.6, 0.5),"
        " _rule_above(0.5, 0.45, 0.6, 0.4), _rule_above(0.5, NULL, NULL, 0.4),"
        " _rule_or('no', 'uncertain'), _rule_or('uncertain', 'yes'), _rule_and('yes', 'no'),"
        " _rule_and('yes', 'uncertain')"
    ).fetchone()
    assert got == ("yes", "uncertain", "no", "yes", "uncertain", "uncertain", "yes", "no", "uncertain")


def test_profiles_from_data(db: Path) -> None:
    con = open_reader(db)
    try:
        cur = con.execute("SELECT * FROM model_profiles")
        names = [d[0] for d in cur.description]
        rows = {r[0]: dict(zip(names, r)) for r in cur.fetchall()}
    finally:
        con.close()
    weak, strong = rows["m-weak"], rows["m-strong"]
    assert (weak["n_runs"], weak["n_steps"]) == (8, 320)
    assert weak["witness_high"] < 0.6 and weak["gap_low"] > 0.1
    assert weak["witness_limited"] == "yes"
    assert {(o["dial"], o["value"]) for o in weak["overrides"] if o["rule"] == "witness_limited"} == {
        ("best_of_n", "10"),
        ("rerank", "evidence"),
        ("evidence_weighted_selection", "true"),
    }
    assert strong["witness_limited"] == "no" and strong["witness_low"] > 0.6
    assert strong["token_heavy"] == "no"


def test_defaults_applies_decided_overrides_and_explains(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "model_defaults.toml"
    try:
        main(["defaults", "--db", str(db), "--out", str(out)])
    except SystemExit as e:
        assert not e.code
    err = capsys.readouterr().err
    text = out.read_text()
    models = tomllib.loads(text)["models"]
    assert models["m-weak"]["best_of_n"] == 10 and models["m-weak"]["rerank"] == "evidence"
    assert models["m-weak"]["evidence_weighted_selection"] is True
    assert "best_of_n" not in models["m-strong"] or models["m-strong"]["best_of_n"] != 10
    line = next(x for x in err.splitlines() if x.startswith("m-weak: best_of_n"))
    assert "witness_limited yes: witness 0." in line and "n = 8 runs, 320 steps" in line
    assert "# best_of_n 0 -> 10: witness_limited yes" in text
