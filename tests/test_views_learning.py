"""Learning-curve and stability views against values worked out by hand (tests/learning_fixture.py).

r1 credited 0 1 0 1 1 1 (witness 0 1 1 1 1 1) and r2 credited 1 0 share one file (appended runs)
with a torn last line; r3 credited six times then never again (12 steps); r4 always (11 steps).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import learning_fixture
import pytest
from ingest_support import dict_rows


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("learn")
    return learning_fixture.ingested(root)


def rows(db: Path, sql: str) -> list[dict[str, Any]]:
    return dict_rows(db, sql)


def by_run(db: Path, view: str) -> dict[str, dict[str, Any]]:
    return {r["run_id"]: r for r in rows(db, f"SELECT * FROM {view}")}


def test_learning_curve_per_run(db: Path) -> None:
    curve = rows(
        db, "SELECT position, cum_credited, cum_witness FROM learning_curve WHERE run_id = 'r1' ORDER BY 1"
    )
    assert [r["position"] for r in curve] == [1, 2, 3, 4, 5, 6]
    assert [r["cum_credited"] for r in curve] == pytest.approx([0, 1 / 2, 1 / 3, 2 / 4, 3 / 5, 4 / 6])
    assert [r["cum_witness"] for r in curve] == pytest.approx([0, 1 / 2, 2 / 3, 3 / 4, 4 / 5, 5 / 6])
    # the torn last line of the appended file is not a step of r2
    r2 = rows(db, "SELECT DISTINCT run_steps FROM learning_curve WHERE run_id = 'r2'")
    assert [r["run_steps"] for r in r2] == [2]


def test_learning_curve_pooled_uses_runs(db: Path) -> None:
    pooled = rows(
        db,
        "SELECT position, n_runs, cum_credited_mean, cum_credited_low, cum_credited_high"
        " FROM learning_curve_pooled WHERE level = 'setting' AND model = 'm-a'"
        " AND setting_id = (SELECT setting_id FROM runs WHERE run_id = 'r1') ORDER BY position",
    )
    # position 1: r1 0, r2 1 -> mean 0.5; t(0.975, 1) = 12.706, sd = 0.7071 -> clipped to [0, 1]
    assert pooled[0]["n_runs"] == 2 and pooled[0]["cum_credited_mean"] == pytest.approx(0.5)
    assert (pooled[0]["cum_credited_low"], pooled[0]["cum_credited_high"]) == (0.0, 1.0)
    # position 2: r1 0.5, r2 0.5 -> sd 0, interval collapses
    assert pooled[1]["cum_credited_low"] == pytest.approx(0.5)
    # position 3 onwards only r1 reached: one run, no interval, never padded with zeros
    assert pooled[2]["n_runs"] == 1 and pooled[2]["cum_credited_mean"] == pytest.approx(1 / 3)
    assert pooled[2]["cum_credited_low"] is None
    assert len(pooled) == 6


def test_early_late(db: Path) -> None:
    el = by_run(db, "early_late")
    # r1: k = 3, first 0 1 0, last 1 1 1
    assert (el["r1"]["k"], el["r1"]["p_early"], el["r1"]["p_late"]) == (3, pytest.approx(1 / 3), 1.0)
    assert el["r1"]["delta"] == pytest.approx(2 / 3)
    # pooled z = (1 - 1/3) / sqrt(4/6 * 2/6 * 2/3) = 1.7321 -> p = 0.08326
    assert el["r1"]["p_value"] == pytest.approx(0.083265, abs=1e-5)
    assert el["r2"]["k"] == 1 and el["r2"]["delta"] == pytest.approx(-1.0)
    # r3: k = 6: all credited then none
    assert el["r3"]["delta"] == pytest.approx(-1.0)
    pooled = rows(db, "SELECT * FROM early_late_pooled WHERE level = 'model' AND model = 'm-a'")[0]
    # runs r1 (+2/3), r2 (-1), r5 (k = 2: 1 1 vs 1 0 -> -1/2): mean = -5/18
    assert pooled["n_runs"] == 3 and pooled["n_short"] == 0
    assert pooled["delta_mean"] == pytest.approx(-5 / 18)
    # sd of (2/3, -1, -1/2) = sqrt(1.46296 / 2) = 0.855267; t(0.975, 2) = 4.3027 -> half 2.1247,
    # clipped to [-1, 1]
    assert pooled["delta_sd"] == pytest.approx(0.855267, abs=1e-6)
    assert (pooled["delta_low"], pooled["delta_high"]) == (-1.0, 1.0)


def test_retention(db: Path) -> None:
    ret = {(r["run_id"], r["lag"]): r for r in rows(db, "SELECT * FROM retention")}
    # r1 lag 3: steps 1-3 (0 1 0) vs 4-6 (1 1 1); lag 5: step 1 (0) vs step 6 (1)
    assert ret[("r1", 3)]["pairs"] == 3 and ret[("r1", 3)]["delta"] == pytest.approx(2 / 3)
    assert ret[("r1", 4)]["delta"] == pytest.approx(0.5)
    assert ret[("r1", 5)]["delta"] == pytest.approx(1.0)
    # r3 lag 4: steps 1-8 (6 of 8) vs 5-12 (2 of 8)
    assert ret[("r3", 4)]["p_first"] == pytest.approx(0.75)
    assert ret[("r3", 4)]["p_retest"] == pytest.approx(0.25)
    # r2 has 2 steps: no pair at any lag, marked and NULL (not 0)
    assert all(ret[("r2", lag)]["too_short"] and ret[("r2", lag)]["delta"] is None for lag in (3, 4, 5))
    pooled = rows(db, "SELECT * FROM retention_pooled WHERE level = 'model' AND model = 'm-b' AND lag = 3")[0]
    # r3 -1/3, r4 0 -> mean -1/6, sd 0.2357, t(0.975, 1) 12.706 -> half 2.118 -> clipped
    assert pooled["n_runs"] == 2 and pooled["delta_mean"] == pytest.approx(-1 / 6)
    m_a = rows(db, "SELECT * FROM retention_pooled WHERE level = 'model' AND model = 'm-a' AND lag = 4")[0]
    assert (m_a["n_runs"], m_a["n_short"]) == (1, 2)


def test_stability(db: Path) -> None:
    st = by_run(db, "stability")
    # r1: LAUC = mean(0, 1/2, 1/3, 1/2, 3/5, 2/3) = 0.43333; WIT = 5/6; plateau = position 1 (1),
    # last tenth = position 5 (1) -> STAB 0; CLS = 0.6 * 0.43333 + 0.4 * 0.83333 = 0.59333
    assert st["r1"]["LAUC"] == pytest.approx(0.433333, abs=1e-6)
    assert st["r1"]["WIT"] == pytest.approx(5 / 6)
    assert st["r1"]["STAB"] == pytest.approx(0.0)
    assert st["r1"]["CLS"] == pytest.approx(0.593333, abs=1e-6)
    assert st["r1"]["onset_status"] == "too_short" and st["r1"]["too_short"] == ["forget_onset_step"]
    # r2 (2 steps): STAB and CLS need 3 steps -> NULL and named in too_short
    assert st["r2"]["STAB"] is None and st["r2"]["CLS"] is None
    assert st["r2"]["too_short"] == ["STAB", "CLS", "forget_onset_step"]
    assert st["r2"]["LAUC"] == pytest.approx(0.75)
    # r3: LAUC = (6 + 6/7 + 6/8 + 6/9 + 6/10 + 6/11 + 6/12) / 12 = 0.826605; STAB = 0 - 1 = -1;
    # CLS = 0.6 * 0.826605 + 0.4 * clip(0.5 - 1) = 0.495963; onset: MA5 = 1, MA6..MA10 = .8 .6 .4 .2 0
    assert st["r3"]["LAUC"] == pytest.approx(0.826605, abs=1e-6)
    assert st["r3"]["STAB"] == pytest.approx(-1.0)
    assert st["r3"]["CLS"] == pytest.approx(0.495963, abs=1e-6)
    assert (st["r3"]["forget_onset_step"], st["r3"]["onset_status"]) == (6, "found")
    assert (st["r4"]["forget_onset_step"], st["r4"]["onset_status"]) == (None, "none")
    pooled = rows(db, "SELECT * FROM stability_pooled WHERE level = 'model' AND model = 'm-b'")[0]
    assert (pooled["n_onset_eligible"], pooled["n_onset"], pooled["onset_share"]) == (2, 1, 0.5)
    # CLS over runs r3 0.495963, r4 1.0 -> mean 0.747982
    assert pooled["n_cls"] == 2 and pooled["cls_mean"] == pytest.approx(0.747982, abs=1e-6)
    m_a = rows(db, "SELECT * FROM stability_pooled WHERE level = 'model' AND model = 'm-a'")[0]
    assert (m_a["n_runs_all"], m_a["n_stab"], m_a["n_onset_eligible"]) == (3, 2, 0)


def test_views_lists_the_new_views_with_their_headers() -> None:
    from warehouse.apps.analysis import list_views

    infos = {i.name: i for i in list_views()}
    for name in (
        "learning_curve",
        "early_late",
        "retention",
        "stability",
        "failure_reasons",
        "rag_delta",
        "talk",
        "guardrail_alerts",
        "model_profiles",
        "cluster_stats",
    ):
        assert infos[name].version == 1 and infos[name].latest and infos[name].description, name
    assert "learning_curve_pooled_v1" in infos["learning_curve"].objects
    header = (Path(__file__).parent.parent / "sql" / "views" / "stability_v1.sql").read_text()
    assert "-- too_short: the metrics this run is too short for" in header
