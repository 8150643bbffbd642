"""The text and markdown reports of bench_ingest.py, from the report that bench_report.build returns.

render_text is the console table; write_markdown rewrites the generated part of RESULTS.md (between
the bench markers) with the machine, the corpora, the table, the phase timings, the query check and
the profiles.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from benchlib import fmt_s

CASE_NAMES = {
    "cat": "cat (I/O floor)",
    "floor": "read_json columns= CTAS (engine floor)",
    "floor_narrow": "read_json narrow columns= CTAS (narrow map)",
    "ours": "warehouse ingest (ours)",
}


def _phases_md(rows: list[dict[str, Any]]) -> list[str]:
    out = []
    for row in rows:
        if row.get("phases"):
            parts = ", ".join(f"{k} {fmt_s(v)}" for k, v in row["phases"].items())
            out.append(f"- {row['corpus']} / {row['case']}: {parts}")
    if not out:
        return []
    return ["### Where ours spends its time (the ingest's own phase timings, s, median)", "", *out, ""]


def _fmt_row(row: dict[str, Any]) -> list[str]:
    def mib(x: float) -> str:
        return "-" if math.isnan(x) else f"{x:.0f}"

    def ratio(x: float) -> str:
        return "-" if math.isnan(x) else f"{x:.2f}"

    verdicts = "; ".join(f"{v['target']}: {'PASS' if v['pass'] else 'FAIL'}" for v in row["verdicts"]) or "-"
    return [
        row["corpus"],
        CASE_NAMES.get(row["case"], row["case"]),
        str(row["n"]),
        f"{fmt_s(row['wall_median'])} ({fmt_s(row['wall_min'])}-{fmt_s(row['wall_max'])})",
        fmt_s(row["cpu_median"]),
        f"{mib(row['rss_median'])} ({mib(row['rss_min'])}-{mib(row['rss_max'])})",
        ratio(row["x_cat"]),
        ratio(row["x_floor"]),
        ratio(row["x_floor_cpu"]),
        "-" if math.isnan(row["cpu_stall"]) else f"{row['cpu_stall']:.0%}",
        mib(row["db_mib"]),
        verdicts,
        row["check"] or "-",
    ]


HEADERS = [
    "corpus",
    "case",
    "n",
    "wall s median (min-max)",
    "CPU s",
    "peak RSS MiB median (min-max)",
    "x cat",
    "x floor",
    "x floor (CPU)",
    "CPU stall",
    "DB MiB",
    "target",
    "check",
]


def _md_table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _query_md(q: dict[str, Any] | None) -> str:
    if not q:
        return "Not run."
    if "error" in q:
        return f"Failed: `{q['error']}`"
    t, r = q["typed"], q["raw"]
    return "\n".join(
        [
            (
                f"On `{q['db']}` ({q['steps']:,} step rows), group-by model over steps (count, accuracy, "
                "credited, coverage, duration):"
            ),
            "",
            "| representation | first run s | warm median s (min-max) | groups |",
            "|---|---|---|---|",
            (
                f"| typed columns (`records.correct`, `credited`, ...) | {fmt_s(t['first'])} | "
                f"{fmt_s(t['warm_median'])} ({fmt_s(t['warm_min'])}-{fmt_s(t['warm_max'])}) | {t['groups']} |"
            ),
            (
                f"| raw JSON (`records.line ->> '$.evaluation...'`) | {fmt_s(r['first'])} | "
                f"{fmt_s(r['warm_median'])} ({fmt_s(r['warm_min'])}-{fmt_s(r['warm_max'])}) | {r['groups']} |"
            ),
            "",
            (
                f"Raw / typed: {q['x_raw_over_typed']:.0f}x; same answer: {q['same_answer']}; "
                "target (typed ≤ 0.1 s and ≥ 10x faster than raw, same answer): "
                f"{'PASS' if q['pass'] else 'FAIL'}."
            ),
        ]
    )


def render_text(report: dict[str, Any]) -> str:
    rows = [_fmt_row(r) for r in report["rows"]]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(HEADERS)]
    out = ["  ".join(h.ljust(w) for h, w in zip(HEADERS, widths, strict=True))]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    q = report.get("query")
    if q and "typed" in q:
        out.append(
            f"query check: typed {fmt_s(q['typed']['warm_median'])} s vs raw JSON "
            f"{fmt_s(q['raw']['warm_median'])} s ({q['x_raw_over_typed']:.0f}x), same answer "
            f"{q['same_answer']}: {'PASS' if q['pass'] else 'FAIL'}"
        )
    elif q:
        out.append(f"query check: {q.get('error')}")
    out += [line for line in _phases_md(report["rows"]) if line.startswith("- ")]
    out += [f"note: {n}" for n in report["notes"]]
    return "\n".join(out)


def write_markdown(path: Path, report: dict[str, Any], info: dict[str, Any]) -> None:
    corpora = "\n".join(
        f"| {k} | `{v['path']}` | {v['files']:,} | {v['mb']:.0f} | "
        f"{(v['manifest'] or {}).get('steps', '-')} | {(v['manifest'] or {}).get('headers', '-')} |"
        for k, v in report["corpora"].items()
    )
    body = "\n".join(
        [
            "<!-- bench:begin (generated by benchmarks/bench_ingest.py; edit outside the markers) -->",
            (
                f"Run {info['date']} on {info['cores']} cores ({info['host_cpu']}), {info['memory']} RAM, "
                f"kernel {info['kernel']}; python/duckdb/pyarrow/orjson {info['versions']}; repo at "
                f"{info['git_commit']} (+{info['git_dirty_paths']} uncommitted paths in the shared tree); "
                f"load average at start {tuple(round(x, 2) for x in info['loadavg_start'])}, at end "
                f"{tuple(round(x, 2) for x in info.get('loadavg_end', ()))}."
            ),
            "",
            f"Command: `{info['command']}`; code measured: {info.get('code', 'working tree')}.",
            "",
            "| corpus | path | log files | MB | steps | headers |",
            "|---|---|---|---|---|---|",
            corpora,
            "",
            (
                "Warm page cache. Wall = whole process (start, imports, work, publish). Peak RSS = max of "
                "`/usr/bin/time -v` and the sampled sum over the process tree. `x cat` / `x floor` = median "
                "of same-round ratios (wall; `(CPU)` = user+sys). `CPU stall` = share of the wall time some "
                "task waited for a CPU (PSI, whole machine: other tenants' load). `check` compares ingested "
                "rows with the generator's ground truth (and, for incremental cases, the summary's "
                "`lines_good`)."
            ),
            "",
            _md_table([_fmt_row(r) for r in report["rows"]]),
            "",
            *_phases_md(report["rows"]),
            "### Query check (typed columns materialized at ingest)",
            "",
            _query_md(report.get("query")),
            "",
            *(f"- note: {n}" for n in report["notes"]),
            *(
                f"\n### Profile: {name}\n\n```\n{_clip(text)}\n```"
                for name, text in report.get("profiles", {}).items()
            ),
            "<!-- bench:end -->",
        ]
    )
    old = path.read_text() if path.exists() else ""
    begin, end = old.find("<!-- bench:begin"), old.find("<!-- bench:end -->")
    if begin >= 0 and end > begin:
        new = old[:begin] + body + old[end + len("<!-- bench:end -->") :]
    else:
        new = "# Ingest benchmark results\n\n" + body + "\n\n## Notes\n\n(none yet)\n"
    path.write_text(new)


def _clip(text: str, lines: int = 45) -> str:
    """The profile without the interpreter / click frames above the command itself."""
    noise = ("site-packages/click/", "<frozen runpy>", "builtins.exec", "<string>:1", "__main__.py")
    kept = [line for line in text.splitlines() if not any(n in line for n in noise)]
    return "\n".join(kept[:lines])
