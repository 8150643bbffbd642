"""Talk ratio and logged guardrail alerts against hand-worked values (tests/learning_fixture.py).

Every step logs 500 tutor tokens; r1, r2, r5 log 1500 student tokens a step, r3 3000, r4 1000.
r3 and r4 log guardrail alerts against the band 1200-2500 (r3 above it, r4 below it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import learning_fixture
import pytest
from ingest_support import dict_rows


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("talk")
    return learning_fixture.ingested(root)


def rows(db: Path, sql: str) -> list[dict[str, Any]]:
    return dict_rows(db, sql)


def test_talk_ratio(db: Path) -> None:
    talk = {r["run_id"]: r for r in rows(db, "SELECT * FROM talk")}
    assert talk["r1"]["talk_ratio"] == pytest.approx(500 / 2000)
    assert talk["r3"]["talk_ratio"] == pytest.approx(500 / 3500)
    assert talk["r4"]["talk_ratio"] == pytest.approx(500 / 1500)
    # r1 logs two messages per step over 6 steps; runs without messages say NULL, not 0
    assert talk["r1"]["n_turns"] == 12 and talk["r2"]["n_turns"] is None
    (m_b,) = rows(db, "SELECT * FROM talk_pooled WHERE model = 'm-b'")
    # mean of 1/7 and 1/3 = 0.238095; sd = 0.134687; t(0.975, 1) = 12.706 -> half = 1.210115
    assert m_b["talk_ratio_mean"] == pytest.approx(0.238095, abs=1e-6)
    assert m_b["talk_ratio_high"] == pytest.approx(0.238095 + 1.210115, abs=1e-4)
    assert m_b["corr_talk_credited"] is None  # 2 runs: no correlation claimed


def test_guardrail_alerts_typed(db: Path) -> None:
    alerts = rows(db, "SELECT * FROM guardrail_alerts WHERE run_id = 'r3' ORDER BY step")
    assert len(alerts) == 12
    first = alerts[0]
    assert (first["tokens"], first["state"], first["action"], first["autonudge"]) == (
        3000,
        "above_band",
        "warn_leaner",
        False,
    )
    assert (first["band_low"], first["band_high"], first["opt"]) == (1200.0, 2500.0, 1800.0)
    assert alerts[-1]["tokens_cum"] == 36000
    states = {(r["level"], r["run_key"], r["state"]): r for r in rows(db, "SELECT * FROM guardrail_states")}
    assert states[("run", "r3", "above_band")]["share"] == 1.0
    assert states[("run", "r4", "above_band")]["share"] == 0.0
    pooled = states[("model", None, "below_band")]
    assert (pooled["n_runs"], pooled["steps_n"], pooled["state_n"]) == (2, 23, 11)
    assert pooled["share"] == pytest.approx(11 / 23)
