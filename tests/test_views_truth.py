"""The views against known truth: interval coverage, best-setting picks, null dials, paired tests.

Corpora come from tests/synth.py with credited rates set per model x setting and go through the
real ingest. Replicate models stand in for repeated seeds, so one ingest gives many draws.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ingest_support import dict_rows as rows
from synth import Design, write_corpus

from ingest import ingest_runs

BUDGET_TRUTH = {4: 0.40, 6: 0.45, 8: 0.60, 10: 0.50, 12: 0.45}


def build(root: Path, designs: list[tuple[Design, int]]) -> tuple[Path, dict[tuple[str, str], float]]:
    truth: dict[tuple[str, str], float] = {}
    for design, seed in designs:
        truth.update(write_corpus(root / "runs", design, seed))
    db = root / "runs.duckdb"
    ingest_runs(str(root / "runs"), str(db))
    return db, truth


def rate(hits: list[bool]) -> float:
    return sum(hits) / len(hits)


# ---------------------------------------------------------------- interval coverage


@pytest.fixture(scope="module")
def cov(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, float]]:
    designs = [
        (
            Design(
                base={f"s{seed}-c{i:02d}": 0.15 + 0.025 * i for i in range(30)},
                grid={"q_min": (1,)},
                runs=4,
                steps=15,
                campaign=f"seed{seed}",
                append_runs=True,
            ),
            seed,
        )
        for seed in (11, 12)
    ]
    db, truth = build(tmp_path_factory.mktemp("cov"), designs)
    return db, {model: p for (model, _), p in truth.items()}


def test_model_intervals_cover_the_truth_at_nominal_rate(cov: tuple[Path, dict[str, float]]) -> None:
    db, truth = cov
    got = rows(db, "SELECT model, credited_low, credited_high FROM by_model_steps")
    hits = [r["credited_low"] <= truth[r["model"]] <= r["credited_high"] for r in got]
    print(f"\nby_model_steps Wilson 95% coverage: {rate(hits):.3f} over {len(hits)} models")
    assert len(hits) == 60 and rate(hits) >= 0.88


def test_run_intervals_cover_the_truth_at_nominal_rate(cov: tuple[Path, dict[str, float]]) -> None:
    db, truth = cov
    got = rows(db, "SELECT model, credited_low, credited_high FROM runs_summary")
    hits = [r["credited_low"] <= truth[r["model"]] <= r["credited_high"] for r in got]
    print(f"\nruns_summary Wilson 95% coverage: {rate(hits):.3f} over {len(hits)} runs")
    assert len(hits) == 240 and 0.91 <= rate(hits) <= 0.99


def test_run_level_t_intervals_cover_the_truth(cov: tuple[Path, dict[str, float]]) -> None:
    db, truth = cov
    got = rows(db, "SELECT model, credited_final_low, credited_final_high FROM by_model_runs")
    hits = [r["credited_final_low"] <= truth[r["model"]] <= r["credited_final_high"] for r in got]
    print(f"\nby_model_runs t 95% coverage: {rate(hits):.3f} over {len(hits)} models")
    assert len(hits) == 60 and rate(hits) >= 0.88


# ---------------------------------------------------------------- best settings


@pytest.fixture(scope="module")
def best(tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = [f"b{i:02d}" for i in range(20)]
    design = Design(
        base=dict.fromkeys(models, 0.0),
        grid={"fact_cards_budget": tuple(BUDGET_TRUTH)},
        effects={("*", "fact_cards_budget", b): p for b, p in BUDGET_TRUTH.items()},
        runs=3,
        steps=20,
        append_runs=True,
        runs_for={(m, (("fact_cards_budget", 6),)): 6 for m in models},
    )  # the default, re-run often
    db, _ = build(tmp_path_factory.mktemp("best"), [(design, 7)])
    return db


def test_best_settings_beats_max_of_runs(best: Path) -> None:
    top = max(BUDGET_TRUTH.values())
    picked = rows(best, "SELECT model, budget FROM best_settings WHERE is_best ORDER BY model")
    lucky = rows(
        best,
        "SELECT model, arg_max(fact_cards_budget, credited_final * 1e6 - epoch(run_ts) / 1e4)"
        " AS budget FROM runs_summary GROUP BY model ORDER BY model",
    )
    pooled_hit = rate([BUDGET_TRUTH[r["budget"]] == top for r in picked])
    lucky_hit = rate([BUDGET_TRUTH[r["budget"]] == top for r in lucky])
    print(
        f"\nbest setting found: best_settings {pooled_hit:.2f}, max-of-runs {lucky_hit:.2f} "
        f"over {len(picked)} replicates"
    )
    assert len(picked) == 20 and pooled_hit >= 0.7 and pooled_hit >= lucky_hit + 0.2


def test_recommended_is_not_worse_and_not_dearer_than_best(best: Path) -> None:
    got = rows(best, "SELECT * FROM best_settings WHERE is_best OR is_recommended")
    by_model: dict[str, dict[str, dict[str, Any]]] = {}
    for r in got:
        for flag in ("is_best", "is_recommended"):
            if r[flag]:
                by_model.setdefault(r["model"], {})[flag] = r
    assert len(by_model) == 20
    for pair in by_model.values():
        rec, top = pair["is_recommended"], pair["is_best"]
        assert rec["not_worse_than_best"] and rec["diff_high"] >= 0
        assert rec["tokens_per_step"] <= top["tokens_per_step"]


def test_settings_below_min_n_are_flagged_and_never_best(best: Path) -> None:
    got = rows(best, "SELECT * FROM best_settings_for(min_steps := 100) WHERE model = 'b00'")
    small = [r for r in got if r["n_steps"] < 100]
    assert small and all(r["below_min_n"] and not r["is_best"] for r in small)
    assert [r["budget"] for r in got if r["is_best"]] == [6]


# ---------------------------------------------------------------- dial effects


@pytest.fixture(scope="module")
def dials(tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = [f"d{i:02d}" for i in range(30)] + ["dconf"]
    confounded = {
        ("dconf", (("q_min", 2), ("self_consistency_n", 1))): 0,
        ("dconf", (("q_min", 1), ("self_consistency_n", 3))): 0,
    }
    design = Design(
        base=dict.fromkeys(models, 0.4),
        grid={"self_consistency_n": (1, 3), "q_min": (1, 2)},
        effects={("*", "self_consistency_n", 3): 0.2},
        runs=3,
        steps=20,
        runs_for=confounded,
        append_runs=True,
    )
    db, _ = build(tmp_path_factory.mktemp("dials"), [(design, 5)])
    return db


def _effects(db: Path, dial: str) -> list[dict[str, Any]]:
    return rows(db, "SELECT * FROM dial_effects WHERE dial = ? AND NOT is_ref AND model <> 'dconf'", [dial])


def test_dial_without_effect_is_not_significant(dials: Path) -> None:
    got = _effects(dials, "q_min")
    flagged = rate([r["significant"] for r in got])
    covered = rate([r["diff_low"] <= 0.0 <= r["diff_high"] for r in got])
    print(
        f"\nnull dial q_min: significant in {flagged:.2f} of {len(got)} models, CI covers 0 in {covered:.2f}"
    )
    assert len(got) == 30 and flagged <= 0.1 and covered >= 0.85
    assert all(r["groups"] == 2 and r["ref_value"] == "1" for r in got)


def test_dial_with_effect_is_found_and_its_interval_covers_it(dials: Path) -> None:
    got = _effects(dials, "self_consistency_n")
    found = rate([r["significant"] and r["diff_vs_ref"] > 0 for r in got])
    covered = rate([r["diff_low"] <= 0.2 <= r["diff_high"] for r in got])
    print(
        f"\ntrue +0.2 dial: significant in {found:.2f} of {len(got)} models, CI covers 0.2 in {covered:.2f}"
    )
    # clustered (runs x items) intervals are wider than the old independent-steps ones: less power
    assert found >= 0.5 and covered >= 0.85
    assert all(r["tokens_diff"] > 0 for r in got)  # sc=3 costs more tokens


def test_confounded_dials_give_no_effect_estimate(dials: Path) -> None:
    got = rows(dials, "SELECT * FROM dial_effects WHERE model = 'dconf' AND NOT is_ref")
    assert got and all(r["groups"] == 0 and r["diff_vs_ref"] is None and not r["significant"] for r in got)


def test_rescoring_at_the_logged_tau_reproduces_credited(dials: Path) -> None:
    same = rows(
        dials,
        "SELECT count(*) AS n, count(*) FILTER (WHERE credited <> credited_at_tau) AS bad"
        " FROM rescore_credited(0.4)",
    )[0]
    assert same["n"] > 0 and same["bad"] == 0
    curve = [
        rows(dials, "SELECT avg(credited_at_tau::INT) AS c FROM rescore_credited(?)", [t])[0]["c"]
        for t in (0.0, 0.4, 0.7, 1.01)
    ]
    assert curve == sorted(curve, reverse=True) and curve[-1] == 0.0


# ---------------------------------------------------------------- paired comparison, ranking, shell


@pytest.fixture(scope="module")
def paired(tmp_path_factory: pytest.TempPathFactory) -> Path:
    design = Design(
        base={"pa": 0.6, "pa2": 0.58, "pc": 0.35},
        grid={"q_min": (1,)},
        runs=4,
        steps=25,
        shared_items=True,
        append_runs=True,
    )
    db, _ = build(tmp_path_factory.mktemp("paired"), [(design, 3)])
    return db


def test_paired_comparison_on_the_same_items(paired: Path) -> None:
    far = rows(paired, "SELECT * FROM paired_comparison('pa', 'pc')")[0]
    near = rows(paired, "SELECT * FROM paired_comparison('pa', 'pa2')")[0]
    # 4 runs x 25 shared items a side: repeats are averaged per item, 25 pairs, not 100
    assert far["steps_a"] == 100 and far["n_items"] == 25
    assert far["items_a_better"] + far["items_tied"] + far["items_b_better"] == 25
    assert far["p_value"] < 0.01 and far["diff_low"] <= 0.25 <= far["diff_high"]
    assert near["p_value"] > 0.05 and near["diff_low"] <= 0.02 <= near["diff_high"]
    view = rows(paired, "SELECT * FROM paired_models WHERE model_a = 'pa' AND model_b = 'pc'")[0]
    keys = ("items_a_better", "items_b_better", "p_value")
    assert [view[k] for k in keys] == [far[k] for k in keys]


def test_model_ranking_tie_groups(paired: Path) -> None:
    got = {r["model"]: r for r in rows(paired, "SELECT * FROM model_ranking")}
    assert got["pa"]["tie_group"] == got["pa2"]["tie_group"] == 1
    assert got["pc"]["tie_group"] == 2 and got["pc"]["p_vs_best"] < 0.05


def test_views_work_from_the_duckdb_shell(paired: Path) -> None:
    shell = Path(sys.executable).with_name("duckdb")
    out = subprocess.run(
        [
            str(shell),
            "-readonly",
            str(paired),
            "-csv",
            "-c",
            "select model, tie_group from model_ranking order by rank",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[1:] == ["pa,1", "pa2,1", "pc,2"]
    out = subprocess.run(
        [
            str(shell),
            "-readonly",
            str(paired),
            "-csv",
            "-c",
            "select n_items, p_value < 0.01 as sig from paired_comparison('pa', 'pc');"
            " select count(*) > 0 from dial_effects, best_settings, pareto, catalog limit 1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "25,true" in out.stdout
