"""The statement rules: only an interval that excludes no-effect (with an agreeing test) is stated."""

from __future__ import annotations

import math
from typing import Any

import pytest

from warehouse.apps.report import findings as fx


def _dial(**kw: Any) -> dict[str, Any]:
    row = {
        "model": "m",
        "dial": "self_consistency_n",
        "value": "3",
        "ref_value": "1",
        "is_ref": False,
        "n_steps": 100,
        "matched_steps": 100,
        "groups": 2,
        "diff_vs_ref": 0.2,
        "diff_low": 0.05,
        "diff_high": 0.35,
        "q_value": 0.01,
        "significant": True,
        "tokens_diff": 100.0,
    }
    row.update(kw)
    return row


def test_dial_stated_only_with_interval_and_test() -> None:
    (f,) = fx.dial_findings([_dial()])
    assert f.stated and "q = 0.01" in f.text and "n = 100 matched steps" in f.text
    (f,) = fx.dial_findings([_dial(significant=False, q_value=0.2, runs_needed=9, mde=0.25)])
    assert not f.stated and "about 9 runs of this value would settle it" in f.text  # many comparisons: q wins
    (f,) = fx.dial_findings([_dial(diff_low=-0.01)])
    assert not f.stated
    (f,) = fx.dial_findings([_dial(diff_vs_ref=None, diff_low=None, diff_high=None)])
    assert not f.stated and "not estimable" in f.text
    assert fx.dial_findings([_dial(is_ref=True)]) == []


def test_negative_effects_are_findings_too() -> None:
    (f,) = fx.dial_findings([_dial(diff_vs_ref=-0.2, diff_low=-0.3, diff_high=-0.1)])
    assert f.stated and "-20.0 pp" in f.text


def _model(
    name: str, k: int, n: int, p_above: float | None, above: float | None = None, se: float = 0.06
) -> dict[str, Any]:
    p = k / n
    d = None if above is None else p - above  # this model - the model above, clustered interval
    z = 1.959963984540054
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {
        "model": name,
        "credited": p,
        "credited_low": centre - half,
        "credited_high": centre + half,
        "n_steps": n,
        "p_vs_above": p_above,
        "task_type": "mcq",
        "tau": 0.4,
        "diff_vs_above": d,
        "diff_above_low": None if d is None else d - 2 * se,
        "diff_above_high": None if d is None else d + 2 * se,
        "mde_vs_above": 2.8 * se,
        "n_needed_vs_above": None if d is None else 1234,
    }


def test_ranking_pairs() -> None:
    rows = [_model("a", 80, 100, None), _model("b", 40, 100, 1e-8, 0.8), _model("c", 38, 100, 0.77, 0.4)]
    first, second = fx.ranking_findings(rows)
    assert first.stated and first.text.startswith("a is credited more often than b")
    assert "p < 0.0001" in first.text
    assert not second.stated and "not separable" in second.text and "n = 200 steps" in second.text
    assert "about 1234 steps per model would settle it" in second.text  # power, not a trend
    other_tau = {**rows[2], "tau": 0.35}
    assert fx.ranking_findings([rows[1], other_tau]) == []  # never compared across tau


def test_newcombe_matches_a_published_example() -> None:
    # Newcombe (1998), method 10, example: 56/70 vs 48/80 -> difference 0.2, CI 0.0524 to 0.3339
    a, b = _model("a", 56, 70, None), _model("b", 48, 80, None)
    low, high = fx.newcombe(
        a["credited"],
        a["credited_low"],
        a["credited_high"],
        b["credited"],
        b["credited_low"],
        b["credited_high"],
    )
    assert low == pytest.approx(0.0524, abs=5e-4) and high == pytest.approx(0.3339, abs=5e-4)


def test_witness_rules() -> None:
    row = {
        "model": "m",
        "n_steps": 50,
        "lift": 0.3,
        "lift_low": 0.1,
        "lift_high": 0.5,
        "credited_if_witness": 0.5,
        "credited_if_no_witness": 0.2,
    }
    (f,) = fx.witness_findings([row])
    assert f.stated
    (f,) = fx.witness_findings([{**row, "lift_low": -0.05}])
    assert not f.stated and "inconclusive" in f.text and "n = 50 steps" in f.text
    summary = fx.witness_summary(fx.witness_findings([row, {**row, "model": "x", "lift_low": -0.1}]))
    assert summary is not None and "in 1 of 2 models" in summary.text


def test_formatting() -> None:
    assert fx.pct(None) == "–" and fx.pct(0.5) == "50.0%"
    assert fx.pp(-0.0123) == "-1.2 pp"
    assert fx.interval(None, 0.1) == "[–]"
    assert fx.pval(0.00001) == "< 0.0001" and fx.pval(0.034) == "= 0.034"
