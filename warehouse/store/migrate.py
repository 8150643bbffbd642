"""Migration runner: ordered `.sql` files from the `sql.migrations` package.

A migration file may pull in view files with lines of the form `-- include: views/<file>.sql`, so
each view keeps its own file with its header comment while migrations record what was applied.
Each migration and its `_migrations` row commit in one transaction.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from warehouse.core.errors import SchemaVersionError

if TYPE_CHECKING:
    import duckdb

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_INCLUDE = re.compile(r"^--\s*include:\s*(\S+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]


def read_sql(relative: str) -> str:
    """Text of a file under the `sql` package, e.g. 'views/steps_v1.sql'."""
    node = resources.files("sql")
    for part in relative.split("/"):
        node = node / part
    return node.read_text(encoding="utf-8")


def _expand(text: str) -> str:
    return _INCLUDE.sub(lambda m: read_sql(m.group(1)), text)


def available() -> list[Migration]:
    found = []
    for entry in resources.files("sql.migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            text = _expand(entry.read_text(encoding="utf-8"))
            found.append(Migration(int(match.group(1)), match.group(2), text))
    found.sort(key=lambda m: m.number)
    numbers = [m.number for m in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migration numbers must be 1..N without gaps, found {numbers}")
    return found


def code_version() -> int:
    return len(available())


def _ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (id INTEGER NOT NULL, name VARCHAR NOT NULL,"
        " checksum VARCHAR NOT NULL, applied_at TIMESTAMP)"
    )


def applied(con: duckdb.DuckDBPyConnection) -> list[int]:
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_migrations'"
        " AND database_name = current_database() AND schema_name = 'main'"
    ).fetchone()
    if not exists or not exists[0]:
        return []
    return [int(r[0]) for r in con.execute("SELECT id FROM _migrations ORDER BY id").fetchall()]


def pending(con: duckdb.DuckDBPyConnection) -> list[Migration]:
    done = set(applied(con))
    return [m for m in available() if m.number not in done]


def migrate(con: duckdb.DuckDBPyConnection) -> list[Migration]:
    """Apply every pending migration; refuse a database from newer code."""
    _refuse_newer(con, "this database")
    _ensure_table(con)
    todo = pending(con)
    for migration in todo:
        con.execute("BEGIN")
        try:
            con.execute(migration.sql)
            con.execute(
                "INSERT INTO _migrations (id, name, checksum, applied_at) VALUES (?, ?, ?, now())",
                [migration.number, migration.name, migration.checksum],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    if todo:
        seed_model_names(con)
    return todo


def seed_model_names(con: duckdb.DuckDBPyConnection) -> None:
    """Fill an empty `model_names` with the shipped known models, so a migrated database names
    models canonically before its next ingest (which adds the warehouse.toml aliases)."""
    from warehouse.core.models import model_names

    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'model_names'"
        " AND database_name = current_database() AND schema_name = 'main'"
    ).fetchone()
    if not exists or not exists[0]:
        return
    count = con.execute("SELECT count(*) FROM model_names").fetchone()
    if count and count[0]:
        return
    rows = model_names().rows()
    con.execute("BEGIN")
    try:
        con.executemany("INSERT INTO model_names VALUES (?, ?, ?)", [list(r) for r in rows])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _refuse_newer(con: duckdb.DuckDBPyConnection, where: str) -> None:
    done = applied(con)
    newest = max(done, default=0)
    if newest > code_version():
        raise SchemaVersionError(
            f"{where} is at schema {newest:04d}, newer than this runs-warehouse "
            f"({code_version():04d}); upgrade with: pip install -U runs-warehouse"
        )


def check_version(con: duckdb.DuckDBPyConnection, where: str) -> None:
    """For read-only opens: the schema must be exactly the code's."""
    _refuse_newer(con, where)
    newest = max(applied(con), default=0)
    if newest < code_version():
        raise SchemaVersionError(
            f"{where} is at schema {newest:04d} but this code expects {code_version():04d}; "
            "run 'warehouse migrate' to upgrade it"
        )
