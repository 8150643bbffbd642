"""Failure-reason shares, the no_snippet_quote alert, the attribution gap and the RAG delta, by hand.

Fixture: tests/learning_fixture.py. Non-credited steps of m-a: r1 step 0 (witness_mismatch), r1 step 2
(coverage_below_tau + no_snippet_quote, answer wrong), r2 step 1 (no_citations), r5 step 3
(witness_mismatch). r3 (m-b) fails its last six steps: no_snippet_quote x3, witness_mismatch x2,
coverage_below_tau x1 and one with no reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import learning_fixture
import pytest
from ingest_support import dict_rows


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fail")
    return learning_fixture.ingested(root)


def rows(db: Path, sql: str) -> list[dict[str, Any]]:
    return dict_rows(db, sql)


def test_per_run_shares(db: Path) -> None:
    r3 = {r["reason"]: r for r in rows(db, "SELECT * FROM failure_reasons WHERE run_id = 'r3'")}
    assert set(r3) == {"no_snippet_quote", "witness_mismatch", "coverage_below_tau", "(none)"}
    assert r3["no_snippet_quote"]["noncredited_n"] == 6
    assert r3["no_snippet_quote"]["share"] == pytest.approx(0.5)
    # Wilson 95% for 3 of 6
    assert r3["no_snippet_quote"]["share_low"] == pytest.approx(0.187616, abs=1e-6)
    assert r3["witness_mismatch"]["share"] == pytest.approx(1 / 3)
    assert r3["(none)"]["share"] == pytest.approx(1 / 6)
    # 3 of 12 steps log no_snippet_quote: 0.25 > 0.2 raises the alert; r3 has no right-but-uncredited step
    assert r3["(none)"]["no_snippet_quote_rate"] == pytest.approx(0.25) and r3["(none)"]["no_snippet_alert"]
    assert r3["(none)"]["attribution_gap"] == 0.0
    # a reason the model logged elsewhere shows as 0 for a run that never hit it
    r2 = {r["reason"]: r for r in rows(db, "SELECT * FROM failure_reasons WHERE run_id = 'r2'")}
    assert r2["witness_mismatch"]["reason_n"] == 0 and r2["no_citations"]["share"] == 1.0
    r1 = rows(db, "SELECT * FROM failure_reasons WHERE run_id = 'r1' LIMIT 1")[0]
    # r1: 5 right, 4 credited of 6 -> gap 1/6; 1 of 6 steps without a snippet quote -> no alert
    assert r1["attribution_gap"] == pytest.approx(1 / 6) and not r1["no_snippet_alert"]


def test_pooled_cluster_intervals(db: Path) -> None:
    m_a = {
        r["reason"]: r
        for r in rows(db, "SELECT * FROM failure_reasons_pooled WHERE level = 'model' AND model = 'm-a'")
    }
    wm = m_a["witness_mismatch"]
    assert (wm["n_runs"], wm["noncredited_n"], wm["reason_n"], wm["share"]) == (3, 4, 2, 0.5)
    # no_snippet_quote per step: r1 1/6, r2 0/2, r5 0/4 -> 1/12; cluster residuals 0.5, -1/6, -1/3
    # var = 3/2 * 0.388889 / 12^2, t(0.975, 2) = 4.302653 -> high = 1/12 + 0.273850
    assert wm["no_snippet_quote_rate"] == pytest.approx(1 / 12)
    assert wm["no_snippet_quote_rate_low"] == 0.0
    assert wm["no_snippet_quote_rate_high"] == pytest.approx(0.357184, abs=1e-6)
    # attribution gap: (1 + 0 + 1) / 12; residuals 0, -1/3, 1/3 -> half 0.207011
    assert wm["attribution_gap"] == pytest.approx(1 / 6)
    assert wm["attribution_gap_low"] == pytest.approx(1 / 6 - 0.207011, abs=1e-6)


def test_rag_delta_matches_on_other_dials(db: Path) -> None:
    (pair,) = rows(db, "SELECT * FROM rag_delta")
    # r5 (tools on) 3 of 4 credited vs r1 + r2 (off) 5 of 8; one run on: no interval
    assert pair["model"] == "m-a" and (pair["n_runs_on"], pair["n_runs_off"]) == (1, 2)
    assert pair["rag_delta"] == pytest.approx(0.75 - 0.625)
    assert pair["rag_delta_low"] is None
    assert pair["attribution_gap_on"] == pytest.approx(0.25)
    assert pair["attribution_gap_off"] == pytest.approx(6 / 8 - 5 / 8)
