"""The v2 core views on hand-written logs: a score for every task type with its interval, τ never
missing, duplicates flagged and left out, crashed vs in progress, non-log JSONL never a run."""

from __future__ import annotations

import math
import os
import statistics
import time
from pathlib import Path
from typing import Any

import pytest
from logshapes import code, header, mcq, mcq_run, proof, saq, table_qa, write

from ingest import ingest_runs
from warehouse.core.config import parse_config
from warehouse.store.db import open_reader

T975 = {3: 3.182446305284263}  # Student t quantiles (0.975, df)
MODEL = {"type": "llm", "provider": "deepinfra", "model": "mistralai/Mixtral-8x7B-Instruct-v0.1"}


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def t_interval(scores: list[float]) -> tuple[float, float]:
    mean, half = (
        statistics.mean(scores),
        T975[len(scores) - 1] * statistics.stdev(scores) / math.sqrt(len(scores)),
    )
    return max(0.0, mean - half), min(1.0, mean + half)


def _rows(db: Path, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    con = open_reader(db)
    try:
        cur = con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def _by_run(db: Path, view: str = "runs_summary") -> dict[str, dict[str, Any]]:
    return {r["run_id"]: r for r in _rows(db, f"SELECT * FROM {view}")}


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("v2")
    runs = root / "runs"
    st = {"student": MODEL}
    # one file appending runs of every task type, ending in a torn line
    recs = [header("m-mcq", steps=4, **st)] + [
        mcq("m-mcq", i, ok, item=f"m{i}") for i, ok in enumerate([True, False, True, True])
    ]
    recs += [header("m-saq", task="saq", steps=4, **st)] + [
        saq("m-saq", i, s) for i, s in enumerate([1.0, 0.5, 0.0, 0.75])
    ]
    recs += [
        header("m-code", task="code", steps=4, **st),
        code("m-code", 0, 3, 4),
        code("m-code", 1, 2, 2),
        code("m-code", 2, None, None),
        code("m-code", 3, 0, 5),
    ]
    recs += [
        header("m-proof", task="proof", steps=2, **st),
        proof("m-proof", 0, True),
        proof("m-proof", 1, False),
    ]
    recs += [header("m-table", task="table_qa", steps=3, **st)] + [
        table_qa("m-table", i, ok) for i, ok in enumerate([True, True, False])
    ]
    write(runs / "mixed/tasks.jsonl", recs, torn_tail='{"run_id": "m-table", "step": 3, "ts": 17')
    # duplicates: d2 repeats d1 (same model, dials, τ, seed, items); d3 differs by seed
    write(runs / "dup/a.jsonl", mcq_run("d1", [True, False, True], items="q", ts=1758000000, **st))
    write(runs / "dup/b.jsonl", mcq_run("d2", [True, True, True], items="q", ts=1758009999, **st))
    write(runs / "dup/c.jsonl", mcq_run("d3", [True, False, True], items="q", seed=7, ts=1758000000, **st))
    # τ: none logged -> default; header τ
    write(runs / "tau/none.jsonl", mcq_run("t-none", [True], items="tn", **st))
    write(runs / "tau/hdr.jsonl", mcq_run("t-hdr", [True], items="th", coverage_tau=0.35, **st))
    # crashed vs in progress: an unfinished run whose file ends in a torn line
    for name, age in (("crashed", 7200), ("fresh", 5)):
        path = write(
            runs / f"torn/{name}.jsonl",
            [header(name, steps=5, **st), mcq(name, 0, True, item=name)],
            torn_tail='{"run_id": "' + name + '", "step": 1, "t',
        )
        _age(path, age)
    _age(
        write(runs / "torn/stopped.jsonl", [header("stopped", steps=5, **st), mcq("stopped", 0, True)]), 7200
    )
    # a JSONL that is not a run log
    write(runs / "cards_cf.jsonl", [{"cards": [{"id": "f1", "quote": "q"}]}, {"id": "f2", "quote": "r"}])
    db = root / "runs.duckdb"
    ingest_runs(str(runs), str(db))
    return runs, db


def test_every_task_type_is_scored_with_its_interval(corpus: tuple[Path, Path]) -> None:
    got = _by_run(corpus[1])
    expect = {
        "m-mcq": ("mcq", [1, 0, 1, 1]),
        "m-saq": ("saq", [1.0, 0.5, 0.0, 0.75]),
        "m-code": ("code", [0.75, 1.0, 0.0, 0.0]),
        "m-proof": ("proof", [1, 0]),
        "m-table": ("table_qa", [1, 1, 0]),
    }
    for run_id, (task_type, scores) in expect.items():
        r = got[run_id]
        assert (r["task_type"], r["steps_n"], r["steps_all"]) == (task_type, len(scores), len(scores)), run_id
        assert r["score_mean"] == pytest.approx(sum(scores) / len(scores)), run_id
        binary = all(s in (0, 1) for s in scores)
        low, high = (
            wilson(int(sum(scores)), len(scores)) if binary else t_interval([float(s) for s in scores])
        )
        assert r["score_interval"] == ("wilson" if binary else "t"), run_id
        assert (r["score_low"], r["score_high"]) == (pytest.approx(low), pytest.approx(high)), run_id
    assert got["m-mcq"]["mcq_steps_n"] == 4 and got["m-saq"]["mcq_steps_n"] == 0
    assert got["m-mcq"]["acc_final"] == pytest.approx(0.75)
    steps = _rows(corpus[1], "SELECT step, score FROM steps WHERE run_id = 'm-code' ORDER BY step")
    assert [s["score"] for s in steps] == [0.75, 1.0, 0.0, 0.0]  # the errored step scores 0


def test_tau_is_never_missing_and_says_where_it_came_from(corpus: tuple[Path, Path]) -> None:
    got = _by_run(corpus[1], "runs")
    assert (got["t-none"]["tau"], got["t-none"]["tau_from"]) == (0.4, "default")
    assert (got["t-hdr"]["tau"], got["t-hdr"]["tau_from"]) == (0.35, "header")
    assert all(r["tau"] is not None for r in got.values())
    by_tau = _rows(corpus[1], "SELECT tau FROM by_model_steps ORDER BY tau")
    assert [r["tau"] for r in by_tau] == [0.35, 0.4]  # one row per (model, tau), never pooled


def test_a_rerun_of_the_same_work_is_a_duplicate_left_out_by_default(corpus: tuple[Path, Path]) -> None:
    db = corpus[1]
    got = _by_run(db, "runs")
    first = got["d1"]["run_key"]
    assert got["d2"]["duplicate_of"] == first and not got["d2"]["counted"]
    assert got["d1"]["duplicate_of"] is None and got["d1"]["counted"]
    assert got["d3"]["duplicate_of"] is None  # another seed: other work
    dup_steps = _rows(db, "SELECT duplicate_of, counted FROM steps WHERE run_id = 'd2'")
    assert len(dup_steps) == 3 and all(s["duplicate_of"] == first and not s["counted"] for s in dup_steps)
    scoped = {r["run_id"] for r in _rows(db, "SELECT DISTINCT run_id FROM steps_in()")}
    assert "d2" not in scoped and {"d1", "d3"} <= scoped
    everything = {
        r["run_id"] for r in _rows(db, "SELECT DISTINCT run_id FROM steps_in(include_duplicates := true)")
    }
    assert "d2" in everything
    assert "d2" not in {r["run_id"] for r in _rows(db, "SELECT run_id FROM runs_in()")}
    n = _rows(db, "SELECT sum(n_steps) AS n FROM by_model_steps")[0]["n"]
    counted = _rows(db, "SELECT count(*) AS n FROM steps WHERE task_type = 'mcq' AND counted")[0]["n"]
    assert n == counted


def test_a_torn_tail_is_crashed_when_old_and_in_progress_when_recent(corpus: tuple[Path, Path]) -> None:
    got = _by_run(corpus[1], "runs")
    assert got["crashed"]["status"] == "crashed"
    assert got["fresh"]["status"] == "in_progress"
    assert got["stopped"]["status"] == "incomplete"  # old, no torn line: it stopped


def test_the_in_progress_window_is_configurable(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    path = write(
        runs / "x.jsonl", [header("slow", steps=5), mcq("slow", 0, True)], torn_tail='{"run_id": "sl'
    )
    _age(path, 3 * 3600)
    db = tmp_path / "runs.duckdb"
    ingest_runs(str(runs), str(db))
    assert _by_run(db, "runs")["slow"]["status"] == "crashed"
    ingest_runs(str(runs), str(db), config=parse_config({"status": {"in_progress_minutes": 240}}))
    assert _by_run(db, "runs")["slow"]["status"] == "in_progress"


def test_a_jsonl_that_is_not_a_log_is_never_a_run(corpus: tuple[Path, Path]) -> None:
    db = corpus[1]
    assert not _rows(db, "SELECT * FROM runs WHERE relpath = 'cards_cf.jsonl'")
    skipped = _rows(db, "SELECT relpath, reason FROM not_runs")
    assert skipped == [{"relpath": "cards_cf.jsonl", "reason": "no run header and no step records"}]


def test_catalog_lists_every_run_with_model_tau_score_and_duplicate_flag(corpus: tuple[Path, Path]) -> None:
    cat = {r["run_id"]: r for r in _rows(corpus[1], "SELECT * FROM catalog")}
    assert len(cat) == len(_rows(corpus[1], "SELECT run_key FROM runs"))
    assert cat["d2"]["duplicate_of"] == cat["d1"]["run_key"]
    assert cat["m-saq"]["task_type"] == "saq" and cat["m-saq"]["score_mean"] == pytest.approx(0.5625)
