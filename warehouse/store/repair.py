"""`warehouse migrate --repair`: record the code's migration checksums, once the database is
shown to be what the code's migrations build.

A checksum mismatch means a migration this database applied has other statements in this code
(warehouse/store/migrate.py refuses to open it). The repair never guesses:

1. Tables hold the data and are never rewritten here. Their columns (name, type, order) are
   compared with a reference database built in memory from the code's migrations; any
   difference and the repair refuses, changing nothing.
2. Views and macros hold no data. The last definition the code's migrations give each of them
   (`CREATE OR REPLACE VIEW/MACRO`; `DROP ... IF EXISTS` removes) is applied again, in the
   order the migrations give them; then every view and macro of the reference must be in the
   database with the same definition, else the repair refuses and rolls back.
3. Only then the recorded checksums (and names) of the mismatched migrations are rewritten.

Step 2 commits each definition on its own (a binder error aborts a DuckDB transaction, and a
definition may have to wait for another): if the final comparison still fails, the views and
macros keep the code's definitions (they hold no data; the embedded writer does not publish its
private copy after an error) and the checksums stay as they were.

Objects the database has and the reference lacks (a view someone made by hand) are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from warehouse.core.errors import SchemaVersionError
from warehouse.store.checksums import normalise

if TYPE_CHECKING:
    import duckdb


class Migration(Protocol):
    """What the repair reads of a migration (warehouse/store/migrate.py Migration)."""

    @property
    def number(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def sql(self) -> str: ...
    @property
    def checksum(self) -> str: ...
    @property
    def label(self) -> str: ...


_DEFINE = re.compile(r"^CREATE OR REPLACE (?:TEMP |TEMPORARY )?(VIEW|MACRO|FUNCTION) ([^\s(]+)", re.I)
_DROP = re.compile(r"^DROP (VIEW|MACRO TABLE|MACRO|FUNCTION) IF EXISTS ([^\s;]+)", re.I)

_TABLES = """SELECT c.table_name, c.column_name, c.data_type, c.ordinal_position
FROM information_schema.columns AS c JOIN information_schema.tables AS t
  ON t.table_catalog = c.table_catalog AND t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE t.table_type = 'BASE TABLE' AND c.table_schema = 'main' AND c.table_catalog = current_database()
  AND c.table_name <> '_migrations'
ORDER BY 1, 4"""
_VIEWS = """SELECT view_name, sql FROM duckdb_views()
WHERE NOT internal AND schema_name = 'main' AND database_name = current_database()"""
_MACROS = """SELECT function_name, function_type, macro_definition, parameters::VARCHAR
FROM duckdb_functions()
WHERE NOT internal AND function_type IN ('macro', 'table_macro') AND schema_name = 'main'
  AND database_name = current_database()"""


def repair_checksums(
    con: duckdb.DuckDBPyConnection, todo: Sequence[Migration], bad: Sequence[Migration]
) -> list[str]:
    """Record the checksums of the `bad` migrations once the database matches what the applied
    migrations (`todo`, in order) build; the labels of the migrations repaired."""
    if not bad:
        return []
    reference = _reference(todo)
    try:
        _same(_rows(con, _TABLES), _rows(reference, _TABLES), "table columns", by=2)
        _redefine(con, final_definitions(con, todo))
        _same(_rows(con, _VIEWS), _rows(reference, _VIEWS), "views", by=1)
        _same(_rows(con, _MACROS), _rows(reference, _MACROS), "macros", by=2)
    finally:
        reference.close()
    con.execute("BEGIN")
    for migration in bad:
        con.execute(
            "UPDATE _migrations SET checksum = ?, name = ? WHERE id = ?",
            [migration.checksum, migration.name, migration.number],
        )
    con.execute("COMMIT")
    return [m.label for m in bad]


def _redefine(con: duckdb.DuckDBPyConnection, statements: list[str]) -> None:
    """Run each definition (each in its own transaction: DuckDB aborts a whole transaction on a
    binder error). A definition that reads an object whose old definition lacks a column fails
    until that object is redefined, so failures are retried while others succeed; then all run
    once more in order, so each binds against the new definitions (an alias's column list)."""
    import duckdb

    waiting = statements
    while waiting:
        failed: list[tuple[str, duckdb.Error]] = []
        for statement in waiting:
            try:
                con.execute(statement)
            except duckdb.Error as e:
                failed.append((statement, e))
        if len(failed) == len(waiting):
            statement, error = failed[0]
            raise SchemaVersionError(
                f"cannot repair: {statement[:60]}... does not bind: {str(error).splitlines()[0]}"
            )
        waiting = [statement for statement, _ in failed]
    for statement in statements:
        con.execute(statement)


def final_definitions(con: duckdb.DuckDBPyConnection, migrations: Sequence[Migration]) -> list[str]:
    """The statements that define each view and macro as the migrations leave it, in order:
    per object, only its last CREATE OR REPLACE (or its DROP ... IF EXISTS, if that came last)."""
    last: dict[tuple[str, str], tuple[int, str]] = {}
    position = 0
    for migration in migrations:
        for statement in con.extract_statements(migration.sql):
            text = normalise(statement.query)
            match = _DEFINE.match(text) or _DROP.match(text)
            if match is None:
                continue
            kind = "view" if match.group(1).upper() == "VIEW" else "macro"
            last[(kind, match.group(2).lower())] = (position, text)
            position += 1
    return [text for _, text in sorted(last.values())]


def _reference(migrations: Sequence[Migration]) -> duckdb.DuckDBPyConnection:
    """An empty in-memory database built by the code's migrations (those the database applied)."""
    import duckdb

    ref = duckdb.connect(":memory:")
    for migration in migrations:
        ref.execute(migration.sql)
    return ref


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return sorted(tuple(row) for row in con.execute(sql).fetchall())


def _same(got: list[tuple[Any, ...]], want: list[tuple[Any, ...]], what: str, *, by: int) -> None:
    """Every row of the reference is in the database, keyed by its first `by` values (for table
    columns, nothing else is either)."""
    have, need = {row[:by]: row for row in got}, {row[:by]: row for row in want}
    extra = sorted(set(have) - set(need)) if what == "table columns" else []
    for key in [*sorted(need), *extra]:
        if have.get(key) == need.get(key):
            continue
        name = ".".join(str(v) for v in key)
        mine, code = have.get(key), need.get(key)
        found = (
            "is missing"
            if mine is None
            else "is not built by this code"
            if code is None
            else f"is {mine[by:]!r} where the code builds {code[by:]!r}"
        )
        if what == "table columns":
            raise SchemaVersionError(
                f"cannot repair: column {name} {found}; the data tables differ from this code's, "
                "so restore a backup or ingest into a new --db"
            )
        raise SchemaVersionError(
            f"cannot repair: after re-applying the code's definitions, {what[:-1]} {name} {found}"
        )
