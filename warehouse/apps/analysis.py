"""Library side of the analysis commands: the view registry, prices, and the canned queries.

The statistics live in SQL (sql/views/*.sql); this module only lists them and runs fixed queries
over them with bound parameters. Identifiers never come from user input except through the
allowlists below.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any, NamedTuple

from warehouse.apps.scope import ARGS, Scope
from warehouse.core.errors import QueryError, UsageError, one_line

if TYPE_CHECKING:
    import duckdb


_FILE = re.compile(r"^(?P<name>[a-z0-9_]+)_v(?P<version>\d+)\.sql$")
_HEADER = re.compile(r"^--\s*(?P<name>[a-z0-9_]+)\s+v(?P<version>\d+):\s*(?P<desc>.+)$")
METRICS = ("credited", "correct", "witness")
DEFAULT_MARGIN = 0.03
DIALS = (
    "closed_book",
    "self_consistency_n",
    "sc_extract_n",
    "fact_cards_budget",
    "best_of_n",
    "q_min",
    "max_learn_boosts",
    "idk_enabled",
    "target_confidence",
    "use_tools",
    "use_fact_cards",
    "require_citations",
    "citation_mode",
    "reasoning",
    "controller",
    "rerank",
    "evidence_weighted_selection",
    "uncertainty_gate",
    "verify",
    "context_position",
    "temp_answer",
)


class ViewInfo(NamedTuple):
    name: str
    version: int
    latest: bool
    kind: str
    description: str
    objects: str


class Result(NamedTuple):
    columns: list[str]
    rows: list[tuple[Any, ...]]

    def batches(self) -> Iterator[list[tuple[Any, ...]]]:
        yield self.rows


def _kind(name: str, version: int, text: str) -> tuple[str, list[str]]:
    objects = re.findall(r"CREATE OR REPLACE (VIEW|MACRO)\s+([a-z0-9_]+)", text)
    public = [obj for _, obj in objects if not obj.startswith("_")]
    versioned = f"{name}_v{version}"
    if any(k == "VIEW" and o == versioned for k, o in objects):
        return "view", public
    if any(k == "MACRO" and o == versioned for k, o in objects):
        return "table macro", public
    return "macros", public


def list_views() -> list[ViewInfo]:
    """Every view file under sql/views, from its header comment (first line)."""
    found: list[tuple[str, int, str, str, list[str]]] = []
    for entry in resources.files("sql").joinpath("views").iterdir():
        match = _FILE.match(entry.name)
        if not match:
            continue
        text = entry.read_text(encoding="utf-8")
        header = _HEADER.match(text.splitlines()[0] if text else "")
        if not header or header["name"] != match["name"] or header["version"] != match["version"]:
            raise QueryError(
                f"sql/views/{entry.name} must start with '-- {match['name']} "
                f"v{match['version']}: <description>'"
            )
        version = int(match["version"])
        kind, objects = _kind(match["name"], version, text)
        found.append((match["name"], version, kind, header["desc"].strip(), objects))
    newest: dict[str, int] = {}
    for name, version, *_ in found:
        newest[name] = max(version, newest.get(name, 0))
    return sorted(
        (ViewInfo(n, v, v == newest[n], k, d, ", ".join(o)) for n, v, k, d, o in found),
        key=lambda i: (i.kind != "view", i.name, i.version),
    )


def margin_from(raw: dict[str, Any]) -> float:
    """[stats] margin of warehouse.toml (absolute rate difference the recommendation may lose)."""
    stats = raw.get("stats", {})
    value = stats.get("margin", DEFAULT_MARGIN) if isinstance(stats, dict) else DEFAULT_MARGIN
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value < 1:
        raise UsageError("warehouse.toml [stats] margin must be a number in [0, 1), e.g. 0.03")
    return float(value)


def run(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> Result:
    import duckdb

    try:
        cursor = con.execute(sql, list(params or []))
    except duckdb.Error as e:
        raise QueryError(f"query failed: {one_line(e)}") from e
    columns = [d[0] for d in cursor.description or []]
    return Result(columns, cursor.fetchall())


def _known(con: duckdb.DuckDBPyConnection, column: str, value: str, view: str, what: str) -> None:
    """An unknown model is an error naming it (a filter matching nothing would look like no effect)."""
    found = run(con, f"SELECT count(*) FROM {view} WHERE {column} = ?", [value]).rows[0][0]
    if not found:
        raise QueryError(
            f'unknown {what} {value!r}: see warehouse query "select distinct {column} from {view}"'
        )


def _metric(metric: str) -> None:
    if metric not in METRICS:
        raise QueryError(f"unknown metric {metric!r}: use one of {', '.join(METRICS)}")


def ranking(con: duckdb.DuckDBPyConnection, *, scope: Scope, metric: str, model: str | None) -> Result:
    _metric(metric)
    if model:
        _known(con, "model", model, "runs", "model")
    clause, params = (" WHERE model = ?", [model]) if model else ("", [])
    return run(
        con,
        f"SELECT * FROM model_ranking_for({ARGS}, metric := ?){clause} ORDER BY task_type, tau, rank",
        [*scope.params, metric, *params],
    )


def best_settings(
    con: duckdb.DuckDBPyConnection,
    *,
    min_steps: int,
    apples: bool,
    all_rows: bool,
    model: str | None,
    scope: Scope | None = None,
    metric: str = "credited",
    margin: float = DEFAULT_MARGIN,
) -> Result:
    if min_steps < 1:
        raise UsageError("--min-steps must be at least 1")
    if not 0 <= margin < 1:
        raise UsageError("--margin must be in [0, 1): an absolute difference in rate, e.g. 0.03")
    _metric(metric)
    if model:
        _known(con, "model", model, "runs", "model")
    where = ["(is_best OR is_recommended)"] if not all_rows else []
    params: list[Any] = [*(scope or Scope()).params, metric, min_steps, apples, margin]
    if model:
        where.append("model = ?")
        params.append(model)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return run(
        con,
        f"SELECT * FROM best_settings_for({ARGS}, metric := ?, min_steps := ?, apples_only := ?, margin := ?)"
        f"{clause} ORDER BY model, task_type, tau, is_best DESC, rate DESC",
        params,
    )


def dial_effects(
    con: duckdb.DuckDBPyConnection,
    *,
    model: str | None,
    dial: str | None,
    significant: bool,
    scope: Scope | None = None,
    metric: str = "credited",
) -> Result:
    _metric(metric)
    if model:
        _known(con, "model", model, "runs", "model")
    if dial and dial not in DIALS:
        raise QueryError(f"unknown dial {dial!r}: use one of {', '.join(DIALS)}")
    where, params = [], [*(scope or Scope()).params, metric]
    if model:
        where.append("model = ?")
        params.append(model)
    if dial:
        where.append("dial = ?")
        params.append(dial)
    if significant:
        where.append("significant")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return run(con, f"SELECT * FROM dial_effects_for({ARGS}, metric := ?){clause}", params)


def catalog(con: duckdb.DuckDBPyConnection, *, limit: int | None) -> Result:
    if limit is not None and limit < 1:
        raise UsageError("--limit must be at least 1")
    if limit is None:
        return run(con, "SELECT * FROM catalog")
    return run(con, "SELECT * FROM catalog LIMIT ?", [limit])


def compare(
    con: duckdb.DuckDBPyConnection, a: str, b: str, metric: str, scope: Scope | None = None
) -> Result:
    _metric(metric)
    if a == b:
        raise UsageError("compare needs two different models or settings")
    result = run(
        con,
        "SELECT * FROM paired_comparison(?, ?, metric := ?, campaign := ?, since := ?, until := ?,"
        " runs := ?)",
        [a, b, metric, *(scope or Scope()).params],
    )
    if not result.rows:
        raise QueryError(
            f"{a!r} and {b!r} share no items in this scope: a paired comparison needs the same"
            " items on both sides"
        )
    return result
