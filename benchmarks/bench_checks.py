"""What bench_ingest.py checks: database size, summary line counts, rows against the corpus
generator's ground truth, and the one-line appends of the incremental cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchlib import Result


def db_size(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*")) if db.parent.exists() else 0


def expect_lines(res: Result, lines: int) -> str:
    summary = res.extra.get("json")
    if res.rc != 0 or not isinstance(summary, dict):
        return "no JSON summary"
    got = summary.get("lines_good")
    if got is None:
        return "summary has no lines_good"
    return "ok" if got == lines else f"expected lines_good={lines}, got {got}"


def last_step_line(path: Path) -> dict[str, Any] | None:
    with open(path, "rb") as fh:
        fh.seek(max(0, path.stat().st_size - 65536))
        tail = fh.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
    try:
        rec = json.loads(tail)
    except ValueError:
        return None
    if not isinstance(rec, dict) or "step" not in rec or rec.get("run_header"):
        return None
    return rec


def append_step(path: Path, whole: bool) -> bytes:
    """Append the next step of the file's last run (or only its first half; returns the rest)."""
    rec = last_step_line(path)
    assert rec is not None
    rec["step"] = int(rec["step"]) + 1
    if isinstance(rec.get("ts"), int):
        rec["ts"] += 60
    line = json.dumps(rec, ensure_ascii=False).encode() + b"\n"
    cut = len(line) if whole else len(line) // 2
    with open(path, "ab") as fh:
        fh.write(line[:cut])
    return line[cut:]


def rows_check(db: Path, manifest: dict[str, Any] | None) -> dict[str, Any]:
    """Rows in the ingested DB against the generator's ground truth."""
    import duckdb

    out: dict[str, Any] = {}
    try:
        con = duckdb.connect(str(db), read_only=True)
        try:
            kinds = dict(con.execute("SELECT kind, count(*) FROM records GROUP BY kind").fetchall())
            q = con.execute("SELECT count(*) FROM quarantine").fetchone()
            out = {"records": kinds, "quarantine": q[0] if q else None}
        finally:
            con.close()
    except duckdb.Error as e:  # the schema is someone else's: report, don't crash the bench
        return {"error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"}
    counts = (manifest or {}).get("counts")
    if counts:
        # A header glued after a torn line is recoverable (a crashed writer's last line has no newline and
        # the next run appends straight after it): a lossless ingest
        # quarantines the torn part and still loads the header.
        want = {
            "step": counts["steps"],
            "header": counts["headers"] + counts.get("glued", 0),
            "run_end": counts["run_ends"],
        }
        bad = {k: (kinds.get(k, 0), v) for k, v in want.items() if kinds.get(k, 0) != v}
        if out["quarantine"] != counts["bad_lines"]:
            bad["quarantine"] = (out["quarantine"], counts["bad_lines"])
        out["verdict"] = (
            "ok"
            if not bad
            else "MISMATCH " + ", ".join(f"{k}: got {g}, expected {w}" for k, (g, w) in bad.items())
        )
    return out
