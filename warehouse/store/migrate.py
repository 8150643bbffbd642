"""Migration runner: ordered `.sql` files from the `sql.migrations` package.

A migration file may pull in view files with lines of the form `-- include: views/<file>.sql`, so
each view keeps its own file with its header comment while migrations record what was applied.
Each migration and its `_migrations` row commit in one transaction.

Released migrations are immutable: every open (the writer's `migrate`, the readers'
`check_version`) compares the checksum each applied migration recorded with the code's
(warehouse/store/checksums.py) and refuses a database whose migrations changed under it, naming
`warehouse migrate --repair` (warehouse/store/repair.py).
"""

from __future__ import annotations

import contextlib
import functools
import re
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from warehouse.core.errors import SchemaVersionError
from warehouse.store.checksums import accepted, checksum
from warehouse.store.repair import repair_checksums

if TYPE_CHECKING:
    import duckdb

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_INCLUDE = re.compile(r"^--\s*include:\s*(\S+)\s*$", re.MULTILINE)
REPAIR = "warehouse migrate --repair"  # the command that fixes a checksum mismatch


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    sql: str

    @functools.cached_property
    def checksum(self) -> str:
        """sha256 of the normalised text (warehouse/store/checksums.py), computed once."""
        return checksum(self.sql)

    @property
    def label(self) -> str:
        return f"{self.number:04d}_{self.name}"


def read_sql(relative: str) -> str:
    """Text of a file under the `sql` package, e.g. 'views/steps_v1.sql'."""
    node = resources.files("sql")
    for part in relative.split("/"):
        node = node / part
    return node.read_text(encoding="utf-8")


def _expand(text: str) -> str:
    return _INCLUDE.sub(lambda m: read_sql(m.group(1)), text)


def available() -> list[Migration]:
    """The code's migrations in order (read once per process: the files do not change under it)."""
    return list(_available())


@functools.cache
def _available() -> tuple[Migration, ...]:
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
    return tuple(found)


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


def migrate(
    con: duckdb.DuckDBPyConnection, *, repair: bool = False, repair_hint: str = REPAIR
) -> list[Migration]:
    """Apply every pending migration; refuse a database from newer code or whose applied
    migrations changed (after `repair`ing them, if asked)."""
    _refuse_newer(con, "this database")
    if repair:
        repair_checksums(
            con, [m for m in available() if m.number in set(applied(con))], [m for m, _ in mismatched(con)]
        )
    verify_checksums(con, "this database", repair_hint)
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
            with contextlib.suppress(Exception):  # a failed COMMIT has already ended the transaction:
                con.execute("ROLLBACK")  # never let the ROLLBACK error hide the real one
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


def mismatched(con: duckdb.DuckDBPyConnection) -> list[tuple[Migration, str]]:
    """Applied migrations whose recorded checksum is neither the code's nor a historical one,
    with the checksum recorded (a recorded name other than the code's counts as a mismatch)."""
    if not applied(con):
        return []
    code = {m.number: m for m in available()}
    out = []
    for number, name, recorded in con.execute(
        "SELECT id, name, checksum FROM _migrations ORDER BY id"
    ).fetchall():
        migration = code.get(int(number))
        if migration is None:
            continue  # newer than the code: _refuse_newer says so
        if name != migration.name or not accepted(migration.number, recorded, migration.checksum):
            out.append((migration, f"{int(number):04d}_{name} {recorded}"))
    return out


def verify_checksums(con: duckdb.DuckDBPyConnection, where: str, repair_hint: str = REPAIR) -> None:
    """Refuse a database that applied a migration whose statements have changed since."""
    bad = mismatched(con)
    if bad:
        migration, recorded = bad[0]
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise SchemaVersionError(
            f"{where} applied migration {recorded}, but this code's {migration.label} has other "
            f"statements (checksum {migration.checksum[:16]}){more}; check the database with "
            f"'{repair_hint}', which records the code's checksums only if its tables match"
        )


def check_version(con: duckdb.DuckDBPyConnection, where: str, repair_hint: str = REPAIR) -> None:
    """For read-only opens: the schema must be exactly the code's, as released."""
    _refuse_newer(con, where)
    verify_checksums(con, where, repair_hint)
    newest = max(applied(con), default=0)
    if newest < code_version():
        raise SchemaVersionError(
            f"{where} is at schema {newest:04d} but this code expects {code_version():04d}; "
            "run 'warehouse migrate' to upgrade it"
        )
