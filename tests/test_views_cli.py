"""The analysis commands end to end: warehouse views / best-settings / dial-effects / catalog /
compare / prices, through the real entry point (exit codes, stdout data, stderr talk)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from synth import Design, write_corpus

from ingest import ingest_runs
from warehouse.cli import main
from warehouse.store.db import open_reader


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    design = Design(
        base={"m-a": 0.7, "m-b": 0.3},
        grid={"fact_cards_budget": (6, 10)},
        effects={("m-a", "fact_cards_budget", 10): 0.2},
        runs=2,
        steps=20,
        shared_items=True,
        append_runs=True,
    )
    write_corpus(root / "runs", design, 2)
    path = root / "runs.duckdb"
    ingest_runs(str(root / "runs"), str(path))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(argv))
    except SystemExit as e:
        code = int(e.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_views_lists_versions_and_descriptions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "views", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0 and rows["model_ranking"]["version"] == 2 and rows["model_ranking"]["latest"]
    assert "could-be-best" in rows["model_ranking"]["description"]


def test_best_settings_rows_and_csv_file(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "best-settings", "--db", str(db), "--json")
    rows = json.loads(out)
    assert code == 0 and {r["model"] for r in rows} == {"m-a", "m-b"}
    assert all(r["is_best"] or r["is_recommended"] for r in rows)
    assert [r["budget"] for r in rows if r["model"] == "m-a" and r["is_best"]] == [10]
    target = tmp_path / "analysis" / "best_settings.csv"
    code, out, err = run(capsys, "best-settings", "--db", str(db), "--all", "--apples", "--out", str(target))
    assert code == 0 and out == "" and "wrote 4 rows" in err
    assert len(list(csv.DictReader(target.open()))) == 4


def test_options_reach_sql_as_values_only(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "best-settings", "--db", str(db), "--json", "--model", "x' OR 1=1 --")
    assert code == 3 and out == "" and "unknown model" in err and err.count("\n") == 1
    code, _, err = run(capsys, "best-settings", "--db", str(db), "--min-steps", "0")
    assert code == 2 and "--min-steps" in err


def test_dial_effects_and_catalog(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "dial-effects", "--db", str(db), "--json", "--dial", "fact_cards_budget")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 4 and {r["ref_value"] for r in rows} == {"6"}
    target = tmp_path / "_catalog" / "catalog.csv"
    code, _, _ = run(capsys, "catalog", "--db", str(db), "--out", str(target))
    got = list(csv.DictReader(target.open()))
    assert code == 0 and len(got) == 8 and got[0]["run_ts"] >= got[-1]["run_ts"]
    code, out, _ = run(capsys, "catalog", "--db", str(db), "--limit", "2", "--csv")
    assert code == 0 and len(out.strip().splitlines()) == 3


def test_compare_models_and_errors(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "compare", "m-a", "m-b", "--db", str(db), "--json")
    row = json.loads(out)[0]
    assert code == 0 and row["items_b_better"] == 0 and row["p_value"] < 1e-3
    assert row["n_items"] < row["steps_a"]  # repeats of an item are averaged before pairing
    code, _, err = run(capsys, "compare", "m-a", "nobody", "--db", str(db))
    assert code == 3 and "'nobody' matches no model" in err and err.count("\n") == 1
    code, _, err = run(capsys, "compare", "m-a", "m-b", "--db", str(db), "--metric", "bogus")
    assert code == 2


def test_prices_fill_cost_columns(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toml = tmp_path / "warehouse.toml"
    toml.write_text('[prices."m-a"]\ninput_per_mtok = 1.0\noutput_per_mtok = 4.0\n', encoding="utf-8")
    code, _, err = run(capsys, "prices", "--db", str(db), "--config", str(toml))
    assert code == 0 and "1 models" in err
    con = open_reader(db)
    try:
        cost = dict(con.execute("SELECT model, cost_per_credited FROM by_model_steps").fetchall())
    finally:
        con.close()
    assert cost["m-a"] > 0 and cost["m-b"] is None
