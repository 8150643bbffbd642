"""What the web view's pages read from a snapshot's cached `runs_t` / `steps_t` (see snapshot.py):
the runs list (filters, sorting) and a paired comparison with the items the two sides disagree on.
Every value is bound, never spliced; sort columns come from a fixed list.

The comparison's statistics (difference, interval, p, n_items, one row per task type and tau) are
the `paired_comparison` macro's, computed over `steps_t` (paired.py; a test checks they are equal):
each side's repeats of an item are averaged first and the variance is run- and item-clustered.
The page pairs steps itself only to show transcripts side by
side: the i-th occurrence of an MCQ item on side A with its i-th occurrence on side B (by run
start, run, step, line). Those step pairs count one item many times, so they are described (a 2x2
table), never tested.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from warehouse.apps.runview import dicts
from warehouse.apps.web.paired import SIDE_RUNS, paired_test
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


@dataclass(frozen=True)
class SideIds:
    """What side names mean in one snapshot: a name that is only a model (or only a
    model@setting) reads the occurrence numbers precomputed per model (per model and setting)."""

    models: frozenset[str]
    settings: frozenset[str]  # model@setting_id
    others: frozenset[str]  # setting ids and run ids

    def side(self, name: str, flag: str) -> str:
        """A CTE body: the side's eligible steps (`st` WHERE flag) with their occurrence number `occ`."""
        if name in self.models and name not in self.settings and name not in self.others:
            return f"SELECT *, occ_model AS occ FROM st WHERE {flag}"
        if name in self.settings and name not in self.models and name not in self.others:
            return f"SELECT *, occ_setting AS occ FROM st WHERE {flag}"
        number = f"row_number() OVER (PARTITION BY paired_item ORDER BY {_ORDER})"
        return f"SELECT *, {number} AS occ FROM st WHERE {flag}"


# The MCQ steps with an item of the runs either side names (snapshot.py numbers only those:
# occ_model is set exactly for them; paired_item numbers their item_id).
_SIDE_STEPS = f"""
WITH side_runs AS ({SIDE_RUNS}),
st AS (
    SELECT run_key, step, file_id, line_no, run_started_at, item_id, paired_item, chosen_index, correct_index,
           occ_model, occ_setting, is_a, is_b,
           CASE $m WHEN 'correct' THEN correct WHEN 'witness' THEN witness_pass ELSE credited END AS ok
    FROM steps_t JOIN side_runs USING (run_key) WHERE occ_model IS NOT NULL
)"""


def _pairs_sql(ids: SideIds, a: str, b: str) -> str:
    """One query: the step pairs' 2x2 table, each side's MCQ steps, and the first $n pairs where
    the sides disagree (in item order) as a list of rows. Step pairs count one item many times, so
    they are described here, never tested (the test is paired.py's, over items)."""
    return f"""{_SIDE_STEPS},
sa AS ({ids.side(a, "is_a")}),
sb AS ({ids.side(b, "is_b")}),
pairs AS (
    SELECT sa.item_id, sa.occ, sa.ok AS ok_a, sb.ok AS ok_b, sa.chosen_index AS chosen_a,
           sb.chosen_index AS chosen_b, sa.correct_index,
           sa.run_key AS run_key_a, sa.step AS step_a, sa.file_id AS file_id_a, sa.line_no AS line_no_a,
           sb.run_key AS run_key_b, sb.step AS step_b, sb.file_id AS file_id_b, sb.line_no AS line_no_b
    FROM sa JOIN sb USING (paired_item, occ)
),
disagree AS (SELECT * FROM pairs WHERE ok_a IS DISTINCT FROM ok_b ORDER BY item_id, occ LIMIT $n)
SELECT count(*) AS n_pairs, count(DISTINCT item_id) AS n_items,
       count(*) FILTER (WHERE ok_a AND ok_b) AS both_right,
       count(*) FILTER (WHERE ok_a AND NOT ok_b) AS only_a,
       count(*) FILTER (WHERE NOT ok_a AND ok_b) AS only_b,
       count(*) FILTER (WHERE NOT ok_a AND NOT ok_b) AS both_wrong,
       (SELECT count(*) FROM st WHERE is_a) AS steps_a, (SELECT count(*) FROM st WHERE is_b) AS steps_b,
       (SELECT coalesce(list(d ORDER BY d.item_id, d.occ), []) FROM disagree d) AS disagreements
FROM pairs
"""


@dataclass
class Paired:
    tests: list[dict[str, Any]]  # paired_comparison's rows: one per (task_type, tau) both sides ran
    summary: dict[str, Any]  # step pairs (MCQ), descriptive: the 2x2 table and step counts
    disagreements: list[dict[str, Any]]  # the first `limit` pairs where one side succeeded


def compare(
    con: duckdb.DuckDBPyConnection, ids: SideIds, a: str, b: str, metric: str, limit: int = 50
) -> Paired:
    """Side a vs side b on the same items: the database's paired test (items averaged over their
    repeats, run- and item-clustered), then the step pairs where they disagree, in item order."""
    import duckdb

    if metric not in METRICS:
        raise UsageError(f"metric {metric!r}: use one of {', '.join(METRICS)}")
    params = {"a": a, "b": b, "m": metric}
    try:
        tests = paired_test(con, a, b, metric)
    except duckdb.Error as e:
        line = str(e).splitlines()[0]
        if "matches no" not in line:
            raise
        raise UsageError(line.split("paired_comparison: ", 1)[-1]) from None
    summary = dicts(con.execute(_pairs_sql(ids, a, b), {**params, "n": limit}))[0]
    disagree = [dict(row) for row in summary.pop("disagreements")]
    return Paired(tests, summary, disagree)
