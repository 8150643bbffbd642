"""Row sets handed to DuckDB: Arrow tables for many rows, bound Python lists for a few.

Importing pyarrow (and, through DuckDB's Arrow scan, pyarrow.dataset and numpy) takes ~0.3 s, more
than everything else a one-line ingest does; a few rows go as list parameters instead, zipped
back into rows by unnest(). Binding a list costs ~0.15 ms per element (duckdb 1.5.5: 4.7 s for
20,000 paths), so only small sets go that way. SQL names the row set `__rows__`; `execute` fills
it in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

SMALL_ROWS = 32
ROWS = "__rows__"

Columns = dict[str, tuple[str, list[Any]]]  # name -> (SQL type, values)


@dataclass(frozen=True)
class ListRows:
    columns: Columns

    def select(self) -> str:
        items = (f"unnest($rows_{name})::{sqltype} AS {name}" for name, (sqltype, _) in self.columns.items())
        return f"(SELECT {', '.join(items)})"

    def params(self) -> dict[str, object]:
        return {f"rows_{name}": values for name, (_, values) in self.columns.items()}


def row_set(columns: Columns) -> ListRows | pa.Table:
    """The columns (equal-length lists) as a row set: bound lists when few, else an Arrow table."""
    if len(next(iter(columns.values()))[1]) <= SMALL_ROWS:
        return ListRows(columns)
    import pyarrow as pa

    return pa.table(
        {name: pa.array(values, _arrow_type(sqltype)) for name, (sqltype, values) in columns.items()}
    )


def _arrow_type(sqltype: str) -> pa.DataType:
    import pyarrow as pa

    types = {"BIGINT": pa.int64(), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(), "BLOB": pa.large_binary()}
    return types.get(sqltype, pa.large_string())


def execute(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object], rows: ListRows | pa.Table
) -> duckdb.DuckDBPyConnection:
    """Run `sql` with `__rows__` standing for the row set.

    An Arrow table is read through DuckDB's replacement scan of a local variable, never through
    con.register(): a registered view is a catalog entry, and inside a transaction a dropped one
    (with the whole table it holds) lives until COMMIT, so RSS would grow with the ingest."""
    if isinstance(rows, ListRows):
        return con.execute(sql.replace(ROWS, rows.select()), {**params, **rows.params()})
    arrow_rows = rows  # noqa: F841 - read by name in the SQL below
    return con.execute(sql.replace(ROWS, "arrow_rows"), params)
