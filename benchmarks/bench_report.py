"""Aggregation, targets, query check and profile text of bench_ingest.py (its text and markdown
rendering: bench_render.py)."""

from __future__ import annotations

import io
import math
import pstats
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchlib import Result, median

GIB = 1024.0
# (corpus label, case) -> [(metric, limit, text)]; metric: x_floor | x_floor_cpu | rss (MiB) | wall (s)
TARGETS: dict[tuple[str, str], list[tuple[str, float, str]]] = {
    ("1gb", "ours"): [("x_floor", 1.5, "≤ 1.5× floor"), ("rss", 1.5 * GIB, "RSS ≤ 1.5 GiB")],
    ("many", "ours"): [("rss", 2 * GIB, "RSS ≤ 2 GiB")],
    ("5gb", "ours"): [("rss", 2 * GIB, "RSS ≤ 2 GiB")],
    **{
        (mix, "ours"): [("x_floor", 1.2, "≤ 1.2× floor"), ("x_floor_cpu", 1.2, "CPU ≤ 1.2× floor")]
        for mix in ("mixed-500mb", "mixed-100mb", "multirun", "small-many")
    },
    ("many", "no-op re-ingest"): [("wall", 1.0, "≤ 1 s")],
    ("many", "append 1 line"): [("wall", 1.0, "≤ 1 s")],
}
FULL_CASES = ("cat", "floor", "floor_narrow", "ours")
TYPED_SQL = """
SELECT f.model, count(*) AS n, avg(r.correct::INT) AS acc, avg(r.credited::INT) AS credited,
       avg(r.coverage) AS coverage, avg(r.duration_ms) AS duration_ms
FROM records r JOIN files f ON f.file_id = r.file_id
WHERE r.kind = 'step' GROUP BY f.model ORDER BY f.model NULLS LAST"""
RAW_SQL = """
SELECT f.model, count(*) AS n,
       avg(((r.line ->> '$.evaluation.correct')::BOOLEAN)::INT) AS acc,
       avg(((r.line ->> '$.evaluation.citations_evidence.credited')::BOOLEAN)::INT) AS credited,
       avg((r.line ->> '$.evaluation.citations_evidence.coverage')::DOUBLE) AS coverage,
       avg((r.line ->> '$.duration_ms')::DOUBLE) AS duration_ms
FROM records r JOIN files f ON f.file_id = r.file_id
WHERE r.kind = 'step' GROUP BY f.model ORDER BY f.model NULLS LAST"""


def _rss(r: Result) -> float:
    return max(r.rss_mib, r.tree_rss_mib)


def _ratio(
    groups: dict[tuple[str, str], list[Result]], corpus: str, case: str, base: str, cpu: bool = False
) -> float:
    def value(r: Result) -> float:
        return r.user + r.sys if cpu else r.wall

    base_by_round = {r.round: value(r) for r in groups.get((corpus, base), []) if r.rc == 0}
    ratios = [
        value(r) / base_by_round[r.round]
        for r in groups.get((corpus, case), [])
        if r.rc == 0 and base_by_round.get(r.round)
    ]
    return median(ratios)


def build(
    results: list[Result],
    corpora: list[Any],
    info: dict[str, Any],
    query: dict[str, Any] | None,
    notes: list[str],
) -> dict[str, Any]:
    groups: dict[tuple[str, str], list[Result]] = defaultdict(list)
    for r in results:
        groups[(r.corpus, r.case)].append(r)
    rows, failed_corpora, failed_incr = [], [], False
    for (corpus, case), rs in groups.items():
        ok = [r for r in rs if r.rc == 0]
        walls, rss = [r.wall for r in ok], [_rss(r) for r in ok]
        row: dict[str, Any] = {
            "corpus": corpus,
            "case": case,
            "n": len(ok),
            "failed_runs": len(rs) - len(ok),
            "wall_median": median(walls),
            "wall_min": min(walls, default=math.nan),
            "wall_max": max(walls, default=math.nan),
            "cpu_median": median([r.user + r.sys for r in ok]),
            "rss_median": median(rss),
            "rss_min": min(rss, default=math.nan),
            "rss_max": max(rss, default=math.nan),
            "time_v_rss_median": median([r.rss_mib for r in ok]),
            "x_cat": _ratio(groups, corpus, case, "cat")
            if case in FULL_CASES and case != "cat"
            else math.nan,
            "x_floor": _ratio(groups, corpus, case, "floor") if case == "ours" else math.nan,
            "x_floor_cpu": _ratio(groups, corpus, case, "floor", cpu=True) if case == "ours" else math.nan,
            "cpu_stall": median([r.cpu_stall for r in ok]),
            "db_mib": median([r.extra.get("db_mib", 0.0) for r in ok])
            if case in ("floor", "floor_narrow", "ours")
            else math.nan,
            "check": _check(rs),
            "phases": _phases(ok),
            "verdicts": [],
        }
        metric = {
            "x_floor": row["x_floor"],
            "x_floor_cpu": row["x_floor_cpu"],
            "rss": row["rss_median"],
            "wall": row["wall_median"],
        }
        for key, limit, text in TARGETS.get((corpus, case), []):
            value = metric[key]
            passed = not math.isnan(value) and value <= limit and row["failed_runs"] == 0
            row["verdicts"].append({"target": text, "value": value, "pass": passed})
            if not passed:
                if case == "ours":
                    failed_corpora.append(corpus)
                else:
                    failed_incr = True
        rows.append(row)
    sizes = {
        c.label: {
            "path": str(c.path),
            "files": c.n_files,
            "mb": c.bytes / 1e6,
            "manifest": (c.manifest or {}).get("counts"),
        }
        for c in corpora
    }
    return {
        "rows": rows,
        "corpora": sizes,
        "query": query,
        "notes": notes,
        "failed_corpora": sorted(set(failed_corpora)),
        "failed_incremental": failed_incr,
        "info": info,
    }


def _phases(rs: list[Result]) -> dict[str, float]:
    """Median seconds per phase, from the ingest summary's own `phases` timings (if it has them)."""
    per: dict[str, list[float]] = defaultdict(list)
    for r in rs:
        js = r.extra.get("json")
        if isinstance(js, dict) and isinstance(js.get("phases"), dict):
            for name, sec in js["phases"].items():
                if isinstance(sec, int | float):
                    per[name].append(float(sec))
    return {name: median(v) for name, v in per.items()}


def _check(rs: list[Result]) -> str:
    verdicts = []
    for r in rs:
        if r.rc != 0:
            verdicts.append(f"r{r.round} rc={r.rc}")
        for key in ("rows_check", "final_rows_check"):
            rc = r.extra.get(key)
            if isinstance(rc, dict):
                verdicts.append(rc.get("verdict") or rc.get("error") or "")
        if "check" in r.extra:
            verdicts.append(r.extra["check"])
        js = r.extra.get("json")
        if r.case in ("floor", "floor_narrow") and isinstance(js, dict):
            batches = js.get("batches", 1)
            verdicts.append(f"rows={js.get('rows')}" + (f" in {batches} statements" if batches > 1 else ""))
    bad = [v for v in verdicts if v and v != "ok" and not v.startswith("rows=")]
    if bad:
        return "; ".join(dict.fromkeys(bad))
    return next((v for v in verdicts if v), "")


def query_check(db: Path, reps: int = 5) -> dict[str, Any]:
    """Typed columns vs the raw JSON column for the same group-by (first run + warm median)."""
    import duckdb

    out: dict[str, Any] = {"db": str(db), "sql_typed": TYPED_SQL.strip(), "sql_raw": RAW_SQL.strip()}
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error as e:
        return {**out, "error": f"{type(e).__name__}: {e}"}
    try:
        steps = con.execute("SELECT count(*) FROM records WHERE kind = 'step'").fetchone()
        out["steps"] = steps[0] if steps else 0
        answers = {}
        for name, sql in (("typed", TYPED_SQL), ("raw", RAW_SQL)):
            times = []
            for _ in range(reps + 1):
                t = time.perf_counter()
                answers[name] = con.execute(sql).fetchall()
                times.append(time.perf_counter() - t)
            out[name] = {
                "first": times[0],
                "warm_median": median(times[1:]),
                "warm_min": min(times[1:]),
                "warm_max": max(times[1:]),
                "groups": len(answers[name]),
            }
        out["same_answer"] = _same(answers["typed"], answers["raw"])
        out["x_raw_over_typed"] = out["raw"]["warm_median"] / max(out["typed"]["warm_median"], 1e-9)
        out["pass"] = (
            out["typed"]["warm_median"] <= 0.1 and out["x_raw_over_typed"] >= 10 and out["same_answer"]
        )
    except duckdb.Error as e:
        out["error"] = f"{type(e).__name__}: {str(e).splitlines()[0]}"
    finally:
        con.close()
    return out


def _same(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> bool:
    def norm(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in rows]

    return norm(a) == norm(b)


def profile_text(prof: Path, wall: float) -> str:
    if not prof.exists():
        return "(no profile written)"
    buf = io.StringIO()
    stats = pstats.Stats(str(prof), stream=buf)
    buf.write(f"wall under cProfile: {wall:.2f} s\n\n-- top by cumulative time --\n")
    stats.sort_stats("cumulative").print_stats(30)
    buf.write("\n-- top by own time --\n")
    stats.sort_stats("tottime").print_stats(20)
    return buf.getvalue()
