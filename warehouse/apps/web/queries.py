"""What the web view's pages read from a snapshot's cached `runs_t` / `steps_t` (see snapshot.py):
the runs list (filters, sorting) and a paired comparison with the items the two sides disagree on.
Every value is bound, never spliced; sort columns come from a fixed list.

The pairing is the one `paired_comparison` documents (the i-th occurrence of an item on side A
pairs with its i-th occurrence on side B, by run start, run, step, line), and the interval and
p-value are the database's own macros; tests check both give the same counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from warehouse.apps.runview import dicts
from warehouse.core.errors import UsageError

if TYPE_CHECKING:
    import duckdb

PAGE = 200
# Sortable columns of the runs list (column -> SQL expression).
RUN_SORTS = {
    "started": "started_at",
    "model": "model",
    "campaign": "campaign",
    "status": "status",
    "tau": "tau",
    "steps": "n",
    "credited": "credited",
    "correct": "correct",
    "tokens": "tokens",
}
METRICS = ("credited", "correct", "witness")


@dataclass(frozen=True)
class RunFilter:
    model: str = ""
    campaign: str = ""
    status: str = ""
    tau: str = ""
    dial: str = ""  # name=value, as in runs.dial_kv (e.g. self_consistency_n=3)
    since: str = ""  # YYYY-MM-DD
    until: str = ""
    sort: str = "started"
    order: str = "desc"

    @classmethod
    def from_args(cls, args: Any) -> RunFilter:
        fields = cls.__dataclass_fields__
        return cls(**{k: str(args.get(k, "") or fields[k].default).strip() for k in fields})

    def where(self) -> tuple[str, dict[str, Any]]:
        clauses, params = ["TRUE"], dict[str, Any]()
        for name in ("model", "campaign", "status"):
            value = getattr(self, name)
            if value:
                clauses.append(f"{name} = ${name}")
                params[name] = value
        if self.tau:
            try:
                params["tau"] = float(self.tau)
            except ValueError:
                raise UsageError(f"tau {self.tau!r} is not a number") from None
            clauses.append("abs(tau - $tau) < 1e-9")
        if self.dial:
            clauses.append("list_contains(dial_kv, $dial)")
            params["dial"] = self.dial.replace(" ", "")
        for name, op, shift in (("since", ">=", ""), ("until", "<", " + INTERVAL 1 DAY")):
            value = getattr(self, name)
            if value:
                clauses.append(f"started_at {op} TRY_CAST($d_{name} AS DATE){shift}")
                params[f"d_{name}"] = value
        return " AND ".join(clauses), params

    def order_by(self) -> str:
        column = RUN_SORTS.get(self.sort, RUN_SORTS["started"])
        direction = "ASC" if self.order == "asc" else "DESC"
        return f"{column} {direction} NULLS LAST, run_key"


def runs_list(con: duckdb.DuckDBPyConnection, f: RunFilter) -> tuple[list[dict[str, Any]], int]:
    """The page of runs matching the filter, and how many match in all."""
    where, params = f.where()
    sql = (
        f"SELECT *, count(*) OVER () AS total FROM runs_t WHERE {where} ORDER BY {f.order_by()} LIMIT {PAGE}"
    )
    rows = dicts(con.execute(sql, params))
    return rows, int(rows[0]["total"]) if rows else 0


_SIDE = "(model = ${s} OR setting_id = ${s} OR run_id = ${s} OR model || '@' || setting_id = ${s})"
_ORDER = "run_started_at, run_key, step, line_no"
_PAIRS = f"""
WITH st AS (
    SELECT *, CASE $m WHEN 'correct' THEN correct WHEN 'witness' THEN witness_pass ELSE credited END AS ok
    FROM steps_t WHERE task_type = 'mcq' AND item_id IS NOT NULL
),
sa AS (SELECT *, row_number() OVER (PARTITION BY item_id ORDER BY {_ORDER}) AS occ
       FROM st WHERE {_SIDE.format(s="a")}),
sb AS (SELECT *, row_number() OVER (PARTITION BY item_id ORDER BY {_ORDER}) AS occ
       FROM st WHERE {_SIDE.format(s="b")}),
p AS (
    SELECT sa.item_id, sa.occ, sa.ok AS ok_a, sb.ok AS ok_b, sa.chosen_index AS chosen_a,
           sb.chosen_index AS chosen_b, sa.correct_index,
           sa.run_key AS run_key_a, sa.step AS step_a, sa.file_id AS file_id_a, sa.line_no AS line_no_a,
           sb.run_key AS run_key_b, sb.step AS step_b, sb.file_id AS file_id_b, sb.line_no AS line_no_b
    FROM sa JOIN sb USING (item_id, occ)
)
"""
_SUMMARY = (
    _PAIRS
    + """,
t AS (
    SELECT count(*) AS n_pairs, count(DISTINCT item_id) AS n_items,
           count(*) FILTER (WHERE ok_a AND ok_b) AS both_right,
           count(*) FILTER (WHERE ok_a AND NOT ok_b) AS only_a,
           count(*) FILTER (WHERE NOT ok_a AND ok_b) AS only_b,
           count(*) FILTER (WHERE NOT ok_a AND NOT ok_b) AS both_wrong
    FROM p
)
SELECT (SELECT count(*) FROM sa) AS steps_a, (SELECT count(*) FROM sb) AS steps_b, t.*,
       (both_right + only_a)::DOUBLE / nullif(n_pairs, 0) AS rate_a,
       (both_right + only_b)::DOUBLE / nullif(n_pairs, 0) AS rate_b,
       (only_a - only_b)::DOUBLE / nullif(n_pairs, 0) AS diff,
       CASE WHEN n_pairs > 0 THEN paired_diff_low(only_a, only_b, n_pairs) END AS diff_low,
       CASE WHEN n_pairs > 0 THEN paired_diff_high(only_a, only_b, n_pairs) END AS diff_high,
       CASE WHEN n_pairs > 0 THEN mcnemar_exact_p(only_a, only_b) END AS p_mcnemar
FROM t
"""
)


def _check(metric: str) -> None:
    if metric not in METRICS:
        raise UsageError(f"metric {metric!r}: use one of {', '.join(METRICS)}")


def compare(con: duckdb.DuckDBPyConnection, a: str, b: str, metric: str) -> dict[str, Any]:
    """Paired result of side a vs side b: counts, rates, difference with its 95% interval, p."""
    _check(metric)
    return dicts(con.execute(_SUMMARY, {"a": a, "b": b, "m": metric}))[0]


def disagreements(
    con: duckdb.DuckDBPyConnection, a: str, b: str, metric: str, limit: int = 50
) -> list[dict[str, Any]]:
    """The item pairs where one side succeeded and the other did not (first `limit`)."""
    _check(metric)
    sql = _PAIRS + "SELECT * FROM p WHERE ok_a IS DISTINCT FROM ok_b ORDER BY item_id, occ LIMIT $n"
    return dicts(con.execute(sql, {"a": a, "b": b, "m": metric, "n": limit}))
