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


_ORDER = "run_started_at, run_key, step, line_no"
# Which steps a side names (as paired_comparison: model, setting_id, run_id or model@setting_id).
_SIDE = "(model = ${s} OR setting_id = ${s} OR run_id = ${s} OR model || '@' || setting_id = ${s})"
_ELIGIBLE = "task_type = 'mcq' AND item_id IS NOT NULL"


@dataclass(frozen=True)
class SideIds:
    """What side names mean in one snapshot: a name that is only a model (or only a
    model@setting) reads the occurrence numbers precomputed per model (per model and setting)."""

    models: frozenset[str]
    settings: frozenset[str]  # model@setting_id
    others: frozenset[str]  # setting ids and run ids

    def side(self, name: str, key: str) -> str:
        """A CTE body: the side's eligible steps with their occurrence number `occ`."""
        if name in self.models and name not in self.settings and name not in self.others:
            return f"SELECT *, occ_model AS occ FROM st WHERE model = ${key}"
        if name in self.settings and name not in self.models and name not in self.others:
            return f"SELECT *, occ_setting AS occ FROM st WHERE model || '@' || setting_id = ${key}"
        return (
            f"SELECT *, row_number() OVER (PARTITION BY item_id ORDER BY {_ORDER}) AS occ"
            f" FROM st WHERE {_SIDE.format(s=key)}"
        )


def _pairs_sql(ids: SideIds, a: str, b: str) -> str:
    return f"""
WITH st AS (
    SELECT *, CASE $m WHEN 'correct' THEN correct WHEN 'witness' THEN witness_pass ELSE credited END AS ok
    FROM steps_t WHERE {_ELIGIBLE}
),
sa AS ({ids.side(a, "a")}),
sb AS ({ids.side(b, "b")})
SELECT sa.item_id, sa.occ, sa.ok AS ok_a, sb.ok AS ok_b, sa.chosen_index AS chosen_a,
       sb.chosen_index AS chosen_b, sa.correct_index,
       sa.run_key AS run_key_a, sa.step AS step_a, sa.file_id AS file_id_a, sa.line_no AS line_no_a,
       sb.run_key AS run_key_b, sb.step AS step_b, sb.file_id AS file_id_b, sb.line_no AS line_no_b
FROM sa JOIN sb USING (item_id, occ)
"""


_SUMMARY = """
WITH t AS (
    SELECT count(*) AS n_pairs, count(DISTINCT item_id) AS n_items,
           count(*) FILTER (WHERE ok_a AND ok_b) AS both_right,
           count(*) FILTER (WHERE ok_a AND NOT ok_b) AS only_a,
           count(*) FILTER (WHERE NOT ok_a AND ok_b) AS only_b,
           count(*) FILTER (WHERE NOT ok_a AND NOT ok_b) AS both_wrong
    FROM pairs
)
SELECT t.*,
       (both_right + only_a)::DOUBLE / nullif(n_pairs, 0) AS rate_a,
       (both_right + only_b)::DOUBLE / nullif(n_pairs, 0) AS rate_b,
       (only_a - only_b)::DOUBLE / nullif(n_pairs, 0) AS diff,
       CASE WHEN n_pairs > 0 THEN paired_diff_low(only_a, only_b, n_pairs) END AS diff_low,
       CASE WHEN n_pairs > 0 THEN paired_diff_high(only_a, only_b, n_pairs) END AS diff_high,
       CASE WHEN n_pairs > 0 THEN mcnemar_exact_p(only_a, only_b) END AS p_mcnemar
FROM t
"""


@dataclass
class Paired:
    summary: dict[str, Any]
    disagreements: list[dict[str, Any]]  # the first `limit` pairs where one side succeeded


def compare(
    con: duckdb.DuckDBPyConnection, ids: SideIds, a: str, b: str, metric: str, limit: int = 50
) -> Paired:
    """Side a vs side b on the same items: counts, rates, the paired difference with its 95%
    interval and McNemar's p; then the items where they disagree, in item order."""
    if metric not in METRICS:
        raise UsageError(f"metric {metric!r}: use one of {', '.join(METRICS)}")
    params = {"a": a, "b": b, "m": metric}
    pairs = con.execute(_pairs_sql(ids, a, b), params).to_arrow_table()  # noqa: F841 - read by SQL
    summary = dicts(con.execute(_SUMMARY))[0]
    counts = con.execute(
        f"SELECT count(*) FILTER (WHERE {_SIDE.format(s='a')}), count(*) FILTER (WHERE {_SIDE.format(s='b')})"
        f" FROM steps_t WHERE {_ELIGIBLE}",
        {"a": a, "b": b},
    ).fetchone() or (0, 0)
    summary["steps_a"], summary["steps_b"] = counts
    disagree = dicts(
        con.execute(
            "SELECT * FROM pairs WHERE ok_a IS DISTINCT FROM ok_b ORDER BY item_id, occ LIMIT $n",
            {"n": limit},
        )
    )
    return Paired(summary, disagree)
