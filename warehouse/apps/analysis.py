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

from warehouse.core.errors import QueryError, UsageError

if TYPE_CHECKING:
    import duckdb


_FILE = re.compile(r"^(?P<name>[a-z0-9_]+)_v(?P<version>\d+)\.sql$")
_HEADER = re.compile(r"^--\s*(?P<name>[a-z0-9_]+)\s+v(?P<version>\d+):\s*(?P<desc>.+)$")
METRICS = ("credited", "correct", "witness")


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


def run(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> Result:
    import duckdb

    try:
        cursor = con.execute(sql, list(params or []))
    except duckdb.Error as e:
        raise QueryError(f"query failed: {str(e).splitlines()[0]}") from e
    columns = [d[0] for d in cursor.description or []]
    return Result(columns, cursor.fetchall())


def best_settings(
    con: duckdb.DuckDBPyConnection, *, min_steps: int, apples: bool, all_rows: bool, model: str | None
) -> Result:
    if min_steps < 1:
        raise UsageError("--min-steps must be at least 1")
    where = ["(is_best OR is_recommended)"] if not all_rows else []
    params: list[Any] = [min_steps, apples]
    if model:
        where.append("model = ?")
        params.append(model)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return run(
        con,
        "SELECT * FROM best_settings_for(min_steps := ?, apples_only := ?)"
        f"{clause} ORDER BY model, is_best DESC, credited DESC",
        params,
    )


def dial_effects(
    con: duckdb.DuckDBPyConnection, *, model: str | None, dial: str | None, significant: bool
) -> Result:
    where, params = [], []
    if model:
        where.append("model = ?")
        params.append(model)
    if dial:
        where.append("dial = ?")
        params.append(dial)
    if significant:
        where.append("significant")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return run(con, f"SELECT * FROM dial_effects{clause}", params)


def catalog(con: duckdb.DuckDBPyConnection, *, limit: int | None) -> Result:
    if limit is not None and limit < 1:
        raise UsageError("--limit must be at least 1")
    if limit is None:
        return run(con, "SELECT * FROM catalog")
    return run(con, "SELECT * FROM catalog LIMIT ?", [limit])


def compare(con: duckdb.DuckDBPyConnection, a: str, b: str, metric: str) -> Result:
    if metric not in METRICS:
        raise UsageError(f"--metric must be one of {', '.join(METRICS)}")
    if a == b:
        raise UsageError("compare needs two different models or settings")
    result = run(con, "SELECT * FROM paired_comparison(?, ?, metric := ?)", [a, b, metric])
    row = dict(zip(result.columns, result.rows[0], strict=True)) if result.rows else {}
    for side, key in ((a, "steps_a"), (b, "steps_b")):
        if not row.get(key):
            raise QueryError(
                f"no MCQ steps match {side!r}: give a model, a setting_id, a run_id "
                'or model@setting_id (see: warehouse query "select model, setting_id '
                'from best_settings")'
            )
    return result
