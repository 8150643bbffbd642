"""The compare page's paired test (warehouse/apps/web/paired.py, over the snapshot's cached steps)
gives the `paired_comparison` macro's numbers, column by column, on a real ingested corpus:
three models sharing a pool of items, four settings each, several runs a setting (items recur
within a side, so the two-way clustered path runs), plus a re-run of one log (a duplicate, left out
of both) — for sides named by model, model@setting, setting_id and run_id, on every metric."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import known_effects
import pytest

from warehouse.apps.web import queries
from warehouse.apps.web.paired import paired_test
from warehouse.apps.web.snapshot import Snapshot
from warehouse.core.errors import UsageError

DESIGN = known_effects.KnownDesign(runs=3, steps=12, pool=20)


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snapshot]:
    from warehouse.store.db import open_reader

    root = tmp_path_factory.mktemp("paired")
    known_effects.write(root, DESIGN, seed=11)
    _rerun(root / "runs" / "known" / "alpha" / "b5_sc1_r0.jsonl", root / "runs" / "again" / "alpha.jsonl")
    from ingest import ingest_runs

    ingest_runs(str(root / "runs"), str(root / "runs.duckdb"))
    s = Snapshot(open_reader(root / "runs.duckdb"))
    try:
        yield s
    finally:
        s.con.close()


def _rerun(src: Path, dst: Path) -> None:
    """The same work (model, dials, seed, items) logged again under a new run id: a duplicate."""
    old = json.loads(src.read_text(encoding="utf-8").splitlines()[0])["run_id"]
    new = str(uuid.uuid4())
    dst.parent.mkdir(parents=True)
    dst.write_text(src.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def _sides(snap: Snapshot) -> list[tuple[str, str]]:
    rows = snap.con.execute(
        "SELECT model, setting_id, run_id FROM runs WHERE duplicate_of IS NULL"
        " ORDER BY model, setting, run_id"
    ).fetchall()
    dup = snap.con.execute("SELECT run_id FROM runs WHERE duplicate_of IS NOT NULL").fetchall()
    assert len(dup) == 1  # the re-run is in the warehouse, and a duplicate
    (m1, s1, r1), (m2, s2, r2) = rows[0], rows[-1]
    assert m1 != m2 and s1 != s2
    return [
        (m1, m2),  # models: every setting and run of each
        (f"{m1}@{s1}", f"{m2}@{s2}"),
        (s1, s2),  # a setting id names that setting of every model
        (r1, r2),  # one run a side: the plain paired t over items
        (m1, f"{m1}@{s1}"),  # one side's runs are in the other too
        (m1, dup[0][0]),  # a side that is only a duplicate matches nothing in scope
    ]


def _macro(snap: Snapshot, a: str, b: str, metric: str) -> list[dict[str, Any]]:
    from warehouse.apps.runview import dicts

    sql = "SELECT * FROM paired_comparison($a, $b, metric := $m) ORDER BY task_type, tau NULLS LAST"
    return dicts(snap.con.execute(sql, {"a": a, "b": b, "m": metric}))


@pytest.mark.parametrize("metric", queries.METRICS)
def test_the_page_test_equals_the_macro(snap: Snapshot, metric: str) -> None:
    import duckdb

    sides = _sides(snap)
    for a, b in sides[:-1]:
        cur = snap.cursor()
        try:
            page = paired_test(cur, a, b, metric)
        finally:
            cur.close()
        macro = _macro(snap, a, b, metric)
        assert macro and [r["n_items"] for r in macro] == [r["n_items"] for r in page], (a, b)
        for got, want in zip(page, macro, strict=True):
            assert got.keys() == want.keys()
            for column, value in want.items():
                if isinstance(value, float):
                    assert got[column] == pytest.approx(value, rel=1e-9, abs=1e-12), (a, b, column)
                else:
                    assert got[column] == value, (a, b, column)
    a, b = sides[-1]
    with pytest.raises(duckdb.Error, match="matches no") as macro_error:
        _macro(snap, a, b, metric)
    cur = snap.cursor()
    try:
        with pytest.raises(UsageError) as page_error:
            queries.compare(cur, snap.ids, a, b, metric)
    finally:
        cur.close()
    assert str(page_error.value) in str(macro_error.value) and b in str(page_error.value)


def test_the_compare_lists_disagreements_between_models_sharing_items(snap: Snapshot) -> None:
    a, b = _sides(snap)[0]
    cur = snap.cursor()
    try:
        paired = queries.compare(cur, snap.ids, a, b, "credited")
    finally:
        cur.close()
    assert len(paired.tests) == 1 and paired.tests[0]["n_items"] == DESIGN.pool
    s = paired.summary
    assert s["n_pairs"] == s["both_right"] + s["only_a"] + s["only_b"] + s["both_wrong"] > 0
    assert paired.disagreements and all(p["ok_a"] != p["ok_b"] for p in paired.disagreements)
    assert len(paired.disagreements) == min(50, s["only_a"] + s["only_b"])
