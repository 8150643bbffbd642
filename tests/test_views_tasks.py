"""SAQ and alias-swap views against values computed by hand from tests/fixtures/tasks.

The fixtures are written in the simulator's logged shapes: `compare/openai_gpt-4.1/mixed.jsonl`
appends an SAQ run, an alias-swap run, code, proof, table_qa and MCQ runs, and a second alias-swap
run whose last line is torn; `compare/openai_gpt-4o-mini/alias_1.jsonl` holds one alias-swap run
with the same setting as the first one, and a one-draft SAQ run. Models come from the path rule
`compare/<provider>_<model>/`.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from ingest import ingest_runs
from warehouse.apps.analysis import list_views
from warehouse.store.db import open_reader

FIXTURES = Path(__file__).parent / "fixtures" / "tasks"
A1 = "9c67f33d-637e-427d-8c7e-8bf594656e9e"  # gpt-4.1, 8 steps, families fam-x and fam-y
A2 = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"  # gpt-4.1, sc=3, 2 steps + a torn third
A3 = "d4c3b2a1-0f9e-4d8c-b7a6-5f4e3d2c1b0a"  # gpt-4o-mini, same setting as A1


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (0.0 if k == 0 else centre - half, 1.0 if k == n else centre + half)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tasks")
    shutil.copytree(FIXTURES, root / "runs")
    path = root / "runs.duckdb"
    ingest_runs(str(root / "runs"), str(path))
    return path


def rows(db: Path, sql: str) -> list[dict[str, Any]]:
    con = open_reader(db)
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def test_torn_tail_and_every_task_type_are_kept(db: Path) -> None:
    got = {r["task"]: r["n"] for r in rows(db, "SELECT task, sum(steps_logged) AS n FROM runs GROUP BY task")}
    assert got == {"saq": 4, "alias_swap": 14, "code": 3, "proof": 2, "table_qa": 2, "mcq": 2}
    assert rows(db, "SELECT count(*) AS n FROM quarantine")[0]["n"] == 0
    assert rows(db, f"SELECT steps_logged FROM runs WHERE run_id = '{A2}'")[0]["steps_logged"] == 2


def test_alias_families_match_hand_counts(db: Path) -> None:
    got = {(r["run_id"], r["family_id"]): r for r in rows(db, "SELECT * FROM alias_families")}
    assert set(got) == {(A1, "fam-x"), (A1, "fam-y"), (A2, "fam-x"), (A3, "fam-x")}
    # A1 fam-x: A = [T, T], B = [T credited, F]; fam-y: A = [T, F], B = [T not credited, T credited]
    x, y = got[(A1, "fam-x")], got[(A1, "fam-y")]
    assert (x["a_n"], x["a_correct"], x["acc_a"], x["b_total"], x["acc_b"]) == (2, 2, 1.0, 2, 0.5)
    assert x["delta"] == pytest.approx(0.5)  # acc_a - acc_b
    assert (y["acc_a"], y["acc_b"], y["delta"]) == (0.5, 1.0, -0.5)
    assert (y["b_credited"], y["b_total"], y["credited_b"]) == (1, 2, 0.5)
    low, high = wilson(1, 2)
    assert y["credited_b_low"] == pytest.approx(low, abs=1e-9)
    assert y["credited_b_high"] == pytest.approx(high, abs=1e-9)
    assert y["b_coverage_mean"] == pytest.approx((0.2 + 0.6) / 2)
    # A2: the torn third step is not counted; A = [F], B = [T credited]
    a2 = got[(A2, "fam-x")]
    assert (a2["acc_a"], a2["acc_b"], a2["delta"], a2["credited_b"]) == (0.0, 1.0, -1.0, 1.0)
    assert a2["credited_b_low"] == pytest.approx(wilson(1, 1)[0], abs=1e-9)
    assert (got[(A3, "fam-x")]["model"], got[(A1, "fam-x")]["model"]) == ("gpt-4o-mini", "gpt-4.1")
    # the old analysis's group key, from the header dials (Python literals as it printed them)
    assert got[(A2, "fam-x")]["analysis_group"] == (
        "closed=True;anon=True;accum=True;ctxpos=pre;verify=False;sc=3;rich=False;task=alias_swap;diff=medium"
    )
    assert got[(A1, "fam-x")]["analysis_group"] == got[(A3, "fam-x")]["analysis_group"]


def test_alias_summary_pools_runs_per_model_and_setting(db: Path) -> None:
    got = {
        (r["group_by"], r["label"] if r["group_by"] == "model" else r["runs"], r["family_id"]): r
        for r in rows(db, "SELECT * FROM alias_summary")
    }
    m = got[("model", "gpt-4.1", "fam-x")]  # runs A1 (delta .5, credited .5) and A2 (-1, 1)
    assert (m["runs"], m["delta_runs"], m["credited_b_runs"]) == (2, 2, 2)
    assert m["delta_mean"] == pytest.approx(-0.25)
    assert m["credited_b_mean"] == pytest.approx(0.75)
    assert (m["b_credited"], m["b_total"]) == (2, 3)
    assert m["credited_b_pooled"] == pytest.approx(2 / 3)
    assert (m["credited_b_low"], m["credited_b_high"]) == pytest.approx(wilson(2, 3), abs=1e-9)
    sd = math.sqrt(((0.5 + 0.25) ** 2 + (-1 + 0.25) ** 2) / 1)
    half = 12.706204736174707 * sd / math.sqrt(2)  # t(0.975, 1 df)
    assert m["delta_low"] == max(-1.0, -0.25 - half) and m["delta_high"] == min(1.0, -0.25 + half)
    # setting of A1 and A3 (the same dials, task, options, tau) pools them for fam-x
    s = got[("setting", 2, "fam-x")]  # A1 (delta .5, credited .5), A3 (delta -.5, credited .5)
    assert s["delta_mean"] == pytest.approx(0.0)
    assert (s["b_credited"], s["b_total"], s["credited_b_mean"]) == (2, 4, 0.5)
    assert (s["credited_b_mean_low"], s["credited_b_mean_high"]) == pytest.approx((0.5, 0.5))
    key = (
        "closed=True;anon=True;accum=True;ctxpos=pre;verify=False;sc=2;rich=False;task=alias_swap;diff=medium"
    )
    old = next(
        r
        for r in got.values()
        if r["group_by"] == "analysis_group" and r["group_key"] == key and r["family_id"] == "fam-x"
    )
    assert (old["runs"], old["b_credited"], old["b_total"], old["delta_mean"]) == (2, 2, 4, 0.0)
    one = got[("model", "gpt-4o-mini", "fam-x")]
    assert one["runs"] == 1 and one["delta_low"] is None and one["credited_b_mean_low"] is None


def test_saq_points_count_found_missed_and_misconceptions(db: Path) -> None:
    got = {(r["model"], r["kind"], r["label"]): r for r in rows(db, "SELECT * FROM saq_points")}
    # gpt-4.1 best gradings: [pairing | neighbour missed], [pairing | neighbour missed, overgeneral],
    # [pairing, neighbour]; draft-only tags ("wrong-rule") do not count
    pairing, neighbour = got[("gpt-4.1", "point", "pairing")], got[("gpt-4.1", "point", "neighbour")]
    assert (pairing["found"], pairing["missed"], pairing["n"], pairing["rate"]) == (3, 0, 3, 1.0)
    assert (neighbour["found"], neighbour["missed"], neighbour["rate"]) == (1, 2, pytest.approx(1 / 3))
    assert (neighbour["rate_low"], neighbour["rate_high"]) == pytest.approx(wilson(1, 3), abs=1e-9)
    over = got[("gpt-4.1", "misconception", "overgeneral")]
    assert (over["found"], over["missed"], over["n"], over["steps_n"], over["runs"]) == (1, None, 3, 3, 1)
    assert ("gpt-4.1", "misconception", "wrong-rule") not in got
    # a tag repeated within one step counts once
    assert got[("gpt-4o-mini", "misconception", "wrong-rule")]["found"] == 1


def test_saq_drafts_best_vs_first(db: Path) -> None:
    got = {r["model"]: r for r in rows(db, "SELECT * FROM saq_drafts")}
    g = got["gpt-4.1"]  # drafts (first, best): (.2, .86), (.5, .5), (.6, 1.0)
    gains = [0.66, 0.0, 0.4]
    assert (g["steps_n"], g["runs"], g["drafts_mean"]) == (3, 1, 2.0)
    assert g["first_mean"] == pytest.approx(1.3 / 3)
    assert g["best_mean"] == pytest.approx(2.36 / 3)
    mean = sum(gains) / 3
    sd = math.sqrt(sum((x - mean) ** 2 for x in gains) / 2)
    assert g["gain_mean"] == pytest.approx(mean)
    assert g["gain_low"] == pytest.approx(mean - 4.302652729911275 * sd / math.sqrt(3), rel=1e-3)
    assert (g["improved"], g["first_correct"], g["best_correct"]) == (2, 1, 2)
    assert (g["improved_low"], g["improved_high"]) == pytest.approx(wilson(2, 3), abs=1e-9)
    one = got["gpt-4o-mini"]  # a single draft: nothing to gain, no interval
    assert (one["steps_n"], one["gain_mean"], one["gain_low"], one["improved"]) == (1, 0.0, None, 0)


def test_task_views_are_listed_with_their_headers() -> None:
    listed = {v.name: v for v in list_views()}
    for name in ("saq_points", "saq_drafts", "alias_families", "alias_summary"):
        assert listed[name].kind == "view" and listed[name].version == 1
    assert "acc_a - acc_b" in (FIXTURES.parent.parent.parent / "sql/views/alias_families_v1.sql").read_text()
