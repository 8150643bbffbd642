"""Typed values the views can convert: out-of-range ones are rescaled or made NULL, and reported.

A line keeps every value as logged (`records.line`); only the typed copy is bounded. Without
this, one step with a nanosecond `ts` (1757510189123456789) or `-1e309` made `make_timestamp` fail
in every view that reads steps. The rules:

- `ts` is seconds since the epoch. A number too big to be seconds is read by its magnitude:
  below 1e11 seconds (up to year 5138), below 1e14 milliseconds, below 1e17 microseconds, below
  1e20 nanoseconds; anything else (larger, inf, nan) becomes NULL.
- durations and request times (milliseconds), token counts, call counts and step numbers must
  be finite and below `LIMIT` in magnitude (1e15: 31,000 years of milliseconds, a quadrillion
  tokens), else NULL: sums, products with prices and timestamp arithmetic then cannot overflow.

Both load paths insert through one projection (ingest/records.py); the bounding runs afterwards
on the rows of the load, whichever path wrote them, so the two paths stay identical. Each field
with a value bounded counts as a `schema_drift` row with kind `value out of range` (first file
and line, number of lines), shown by `warehouse status`. A migration applies the same rules to
rows stored before them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

DRIFT_KIND = "value out of range"
LIMIT = 1e15
SECONDS_MAX = 1e11

# typed column -> the key it comes from (as reported)
_BOUNDED: dict[str, str] = {
    "step": "step",
    "duration_ms": "duration_ms",
    "student_calls": "student_usage.calls",
    "student_prompt_tokens": "student_usage.prompt_tokens",
    "student_completion_tokens": "student_usage.completion_tokens",
    "student_total_tokens": "student_usage.total_tokens",
    "student_request_ms": "student_usage.request_ms_sum",
    "tutor_calls": "tutor_usage.calls",
    "tutor_prompt_tokens": "tutor_usage.prompt_tokens",
    "tutor_completion_tokens": "tutor_usage.completion_tokens",
    "tutor_total_tokens": "tutor_usage.total_tokens",
    "tutor_request_ms": "tutor_usage.request_ms_sum",
}


def out_of_range(column: str) -> str:
    """SQL: the typed value is set and outside what the views can convert (NaN and inf too:
    DuckDB orders NaN above every number)."""
    limit = SECONDS_MAX if column == "ts" else LIMIT
    return f"({column} IS NOT NULL AND NOT (abs({column}::DOUBLE) < {limit:.0e}))"


def bounded(column: str) -> str:
    """SQL: the value the typed column keeps."""
    if column == "ts":
        return (
            "CASE WHEN abs(ts) < 1e11 THEN ts WHEN abs(ts) < 1e14 THEN ts / 1e3"
            " WHEN abs(ts) < 1e17 THEN ts / 1e6 WHEN abs(ts) < 1e20 THEN ts / 1e9 END"
        )  # (ts is DOUBLE: NaN and inf fall through to NULL)
    return f"CASE WHEN abs({column}::DOUBLE) < {LIMIT:.0e} THEN {column} END"


COLUMNS: dict[str, str] = {"ts": "ts", **_BOUNDED}


def bound_load(con: duckdb.DuckDBPyConnection, load_id: int) -> dict[tuple[str, str], list[int]]:
    """Bound this load's typed values; return schema_drift entries {(key, kind): [lines, file, line]}.

    One count over the load's typed columns when nothing is out of range (the usual case: 4 ms
    for a one-line load, 15 ms for 100,000 rows); per-field counts and an UPDATE otherwise."""
    params = {"load_id": load_id}
    any_bad = " OR ".join(out_of_range(c) for c in COLUMNS)
    found = con.execute(f"SELECT count(*) FROM records WHERE load_id = $load_id AND ({any_bad})", params)
    if not (found.fetchone() or (0,))[0]:
        return {}
    checks = ", ".join(
        f"count(*) FILTER (WHERE {out_of_range(c)}),"
        f" min(struct_pack(file_id, line_no)) FILTER (WHERE {out_of_range(c)})"
        for c in COLUMNS
    )
    sql = f"SELECT {checks} FROM records WHERE load_id = $load_id"
    row = con.execute(sql, params).fetchone()
    assert row is not None
    drift: dict[tuple[str, str], list[int]] = {}
    bad = []
    for i, column in enumerate(COLUMNS):
        count, first = row[2 * i], row[2 * i + 1]
        if count:
            bad.append(column)
            drift[(COLUMNS[column], DRIFT_KIND)] = [int(count), int(first["file_id"]), int(first["line_no"])]
    if bad:
        sets = ", ".join(f"{c} = {bounded(c)}" for c in bad)
        where = " OR ".join(out_of_range(c) for c in bad)
        con.execute(f"UPDATE records SET {sets} WHERE load_id = $load_id AND ({where})", params)
    return drift
