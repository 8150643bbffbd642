"""`warehouse token-curve`: the quasi-binomial fit finds a peak the synthetic truth put there.

Truth (tests/synth.py): credited rises from budget 6 to 10 and falls at 14 (0.35, 0.65, 0.40), and
tokens per step grow with the budget (2000 x 1.6 / 2.0 / 2.4), so the fitted optimum must sit at the
middle token level and the band must exclude the two ends. A model with 3 runs gets no fit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from synth import Design, write_corpus

from ingest import ingest_runs
from warehouse.apps.simq.token_curve import Run, fit
from warehouse.cli import main
from warehouse.store.db import open_reader


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(argv))
    except SystemExit as e:
        code = int(e.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tokens")
    peaked = Design(
        base={"m-peak": 0.35},
        grid={"fact_cards_budget": (6, 10, 14)},
        effects={("*", "fact_cards_budget", 10): 0.30, ("*", "fact_cards_budget", 14): 0.05},
        runs=6,
        steps=40,
        campaign="peak",
    )
    small = Design(base={"m-small": 0.5}, grid={"fact_cards_budget": (6, 10, 14)}, runs=1, campaign="small")
    write_corpus(root / "runs", peaked, 7)
    write_corpus(root / "runs", small, 8)
    ingest_runs(str(root / "runs"), str(root / "runs.duckdb"))
    return root / "runs.duckdb"


def test_fit_finds_the_peak_and_writes_the_tables(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "token-curve", "--db", str(db), "--json")
    assert code == 0
    rows = {r["model"]: r for r in json.loads(out)}
    peak = rows["m-peak"]
    assert (peak["status"], peak["shape"], peak["n_runs"]) == ("fitted", "peaked", 18)
    assert peak["b2"] < 0 and peak["b2_p"] < 0.05
    # the middle level is ~4000 tokens a step (2000 x 2.0); the ends ~3200 and ~4800
    assert 3600 < peak["opt_tokens"] < 4400
    assert 3200 < peak["band_low"] <= peak["opt_tokens"] <= peak["band_high"] < 4800
    assert peak["opt_low"] < 0.65 < peak["opt_high"]
    assert rows["m-small"]["status"] == "too_few_runs" and rows["m-small"]["opt_tokens"] is None
    con = open_reader(db)
    try:
        n = con.execute("SELECT count(*) FROM token_curve_points WHERE model = 'm-peak'").fetchone()
    finally:
        con.close()
    assert n == (60,)


def test_guardrails_file_and_usage_errors(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "g" / "guardrails.json"
    code, _, err = run_cli(
        capsys, "token-curve", "--db", str(db), "--model", "m-peak", "--guardrails-out", str(out)
    )
    assert code == 0 and "wrote the band of m-peak" in err
    band = json.loads(out.read_text())["tokens_per_step"]
    assert band["band_low"] <= band["opt"] <= band["band_high"]
    code, _, err = run_cli(
        capsys, "token-curve", "--db", str(db), "--model", "m-small", "--guardrails-out", "x"
    )
    assert code != 0 and "too_few_runs" in err and err.count("\n") == 1
    code, _, err = run_cli(capsys, "token-curve", "--db", str(db), "--model", "m-peak")
    assert code != 0 and "go together" in err


def test_too_few_token_levels_is_not_fitted() -> None:
    runs = [Run(5, 10, 1000.0)] * 8
    assert fit("m", "*", runs).status == "too_few_runs"
