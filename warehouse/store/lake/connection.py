"""The DuckLake backend: `--db ducklake:postgres:<libpq conninfo>`.

A lake is a PostgreSQL catalog plus Parquet files under a data path (a shared folder or
`s3://bucket/prefix/`). Every connection is an in-memory DuckDB that loads the ducklake, postgres
and httpfs extensions from the pinned PyPI wheels (`pip install 'runs-warehouse[lake]'`; network
autoinstall stays off), attaches the lake as `lake` and `USE`s it, so every `.sql` file of the
project runs unchanged.

Differences from the embedded file (warehouse/store/db.py):
- no snapshot publishing: DuckLake commits are snapshots, readers see each committed state;
- connecting never migrates: `warehouse lake migrate` applies migrations once, from one place,
  under a PostgreSQL advisory lock (concurrent DDL conflicts in DuckLake);
- data inlining is OFF: DuckLake 1.5.5 keeps inlined rows in PostgreSQL as the VARCHAR rendering
  of each value and loses backslash escapes reading a STRUCT back (the `records.rec` struct of
  schema 0001-0002 whose JSON held `\n` or `\"` failed to cast, or could come back changed).
  A new lake stores the option (set before any view exists: `set_option` crashes once one
  does) and every writer also attaches with DATA_INLINING_ROW_LIMIT 0, so each
  commit writes Parquet; `warehouse lake maintain` merges the small files.

Settings (the `[lake]` table of warehouse.toml, S3 keys from the environment) are read in
warehouse/store/lake/settings.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import importlib.util
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from warehouse.core.config import cache_dir
from warehouse.core.errors import DataError, SchemaVersionError, UsageError
from warehouse.store.lake.settings import LakeSettings, S3Settings, settings_for

if TYPE_CHECKING:
    import duckdb

    from warehouse.core.config import Config

ALIAS = "lake"
# Our name -> the name DuckDB registers (postgres loads as postgres_scanner).
EXTENSIONS = {"ducklake": "ducklake", "postgres": "postgres_scanner", "httpfs": "httpfs"}
EXTRA_HINT = "pip install 'runs-warehouse[lake]'"
MIGRATE_LOCK_KEY = 0x7275_6E73_6C61_6B65  # "runslake": pg_advisory_lock key for migrations


# ---------------------------------------------------------------- extensions


def extension_dir(settings: LakeSettings) -> Path:
    """Where the wheel-shipped extensions get installed (never ~/.duckdb, never the network)."""
    if settings.extension_dir is not None:
        return settings.extension_dir
    return cache_dir() / "duckdb-extensions"


def wheel_extension(name: str, duckdb_version: str) -> Path:
    """The extension file inside the `duckdb-extension-<name>` wheel for this DuckDB version."""
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError(
            f"the DuckLake backend needs the duckdb-extension-{name} package, which is missing: {EXTRA_HINT}"
        )
    base = Path(next(iter(spec.submodule_search_locations)))
    path = base / "extensions" / duckdb_version / f"{name}.duckdb_extension"
    if not path.is_file():
        raise UsageError(
            f"duckdb-extension-{name} has no build for duckdb {duckdb_version} (found "
            f"{sorted(p.name for p in (base / 'extensions').glob('*'))}): reinstall with {EXTRA_HINT} "
            "so the extension wheels match the pinned duckdb"
        )
    return path


def load_extensions(con: duckdb.DuckDBPyConnection, settings: LakeSettings) -> None:
    """Install (once, from the wheels, under a file lock) and load ducklake, postgres, httpfs."""
    row = con.execute("PRAGMA version").fetchone()
    version = str(row[0]) if row else ""
    ext_dir = extension_dir(settings)
    installed = dict(con.execute("SELECT extension_name, installed FROM duckdb_extensions()").fetchall())
    wanted = [name for name in EXTENSIONS if name != "httpfs" or settings.s3 is not None]
    missing = [name for name in wanted if not installed.get(EXTENSIONS[name])]
    if missing:
        files = {name: wheel_extension(name, version) for name in missing}  # errors before locking
        ext_dir.mkdir(parents=True, exist_ok=True)
        with _file_lock(ext_dir / ".install.lock"):
            for path in files.values():
                con.execute(f"FORCE INSTALL {_literal(str(path))}")
    for name in wanted:  # httpfs only for S3 data (loading verifies ~100 MB of signed binaries)
        con.execute(f"LOAD {name}")


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a", encoding="utf-8") as handle:  # a lock file, never a database
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield


def _literal(value: str) -> str:
    """A SQL string literal (ATTACH and CREATE SECRET take no bound parameters)."""
    return "'" + value.replace("'", "''") + "'"


# ---------------------------------------------------------------- connections


def connect(
    settings: LakeSettings, *, read_only: bool, create: bool = False, locked_down: bool = False
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached as `lake` and in use."""
    import duckdb

    ext_dir = extension_dir(settings)
    con = duckdb.connect(
        ":memory:",
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "extension_directory": str(ext_dir),
        },
    )
    try:
        load_extensions(con, settings)
        if settings.s3 is not None:
            con.execute(_secret_sql(settings.s3))
        options = _attach_options(settings, read_only, create)
        con.execute(f"ATTACH {_literal(settings.url)} AS {ALIAS}" + (f" ({options})" if options else ""))
        con.execute(f"USE {ALIAS}")
        if locked_down:
            _lock_down(con)
    except duckdb.Error as e:
        con.close()
        raise _attach_error(settings, e, create) from e
    return con


def _lock_down(con: duckdb.DuckDBPyConnection) -> None:
    """No file or network access except the lake's own data path; configuration frozen.

    DuckDB's allowlist does not tell reads from writes: a query could still COPY a file into
    the data path, so shared lakes give readers read-only storage credentials (docs/team-setup.md).
    """
    row = con.execute(
        f"SELECT value FROM __ducklake_metadata_{ALIAS}.ducklake_metadata WHERE key = 'data_path'"
    ).fetchone()
    if row and row[0]:
        con.execute("SET allowed_directories = [?]", [str(row[0])])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def _attach_options(settings: LakeSettings, read_only: bool, create: bool) -> str:
    options = [] if create else ["CREATE_IF_NOT_EXISTS false"]
    if read_only:
        options.append("READ_ONLY")
    if create and settings.data_path:
        options.append(f"DATA_PATH {_literal(settings.data_path)}")
    if not read_only:
        options.append(f"DATA_INLINING_ROW_LIMIT {int(settings.inlining_row_limit)}")
    return ", ".join(options)


def _secret_sql(s3: S3Settings) -> str:
    parts = ["TYPE s3"]
    for key, value in (
        ("KEY_ID", s3.key_id),
        ("SECRET", s3.secret),
        ("REGION", s3.region),
        ("ENDPOINT", s3.endpoint),
        ("URL_STYLE", s3.url_style),
    ):
        if value is not None:
            parts.append(f"{key} {_literal(value)}")
    if s3.use_ssl is not None:
        parts.append(f"USE_SSL {'true' if s3.use_ssl else 'false'}")
    return f"CREATE OR REPLACE TEMPORARY SECRET warehouse_lake_s3 ({', '.join(parts)})"


def _attach_error(settings: LakeSettings, e: Exception, create: bool) -> Exception:
    text = str(e)
    first = text.splitlines()[0] if text else type(e).__name__
    if "does not exist - and creating a new DuckLake is explicitly disabled" in text:
        return UsageError(
            f"no lake at {settings.describe()}: create it with "
            f"'warehouse lake migrate --db \"{settings.url}\" --data-path DIR_OR_S3'"
        )
    if "Unable to connect to Postgres" in text or "connection to server" in text:
        return DataError(
            f"cannot reach the lake catalog at {settings.describe()}: {first}; "
            "check the host, port and dbname in --db and that PostgreSQL is running"
        )
    if "does not match existing data path" in text:
        return UsageError(
            f"the lake already exists with another data path ({first}); drop "
            "--data-path / [lake] data_path, or point --db at a new catalog database"
        )
    return DataError(f"cannot open the lake {settings.describe()}: {first}")


@contextlib.contextmanager
def open_writer(
    url: str, command: str = "warehouse", *, config: Config | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write lake connection. Never migrates: the schema must already be current."""
    if command == "warehouse ingest":  # the plain ingest has no per-file claims
        raise UsageError(
            "ingest into a lake with 'warehouse lake ingest RUNS_DIR --db URL': it "
            "claims each file so concurrent writers never load one twice"
        )
    settings = settings_for(url, config)
    con = connect(settings, read_only=False)
    try:
        _check_current(con, settings)
        yield con
    finally:
        con.close()


def open_reader(
    url: str, *, locked_down: bool = False, check_schema: bool = True, config: Config | None = None
) -> duckdb.DuckDBPyConnection:
    """A read-only lake connection (external access off when locked_down)."""
    settings = settings_for(url, config)
    con = connect(settings, read_only=True, locked_down=locked_down)
    if check_schema:
        try:
            _check_current(con, settings)
        except BaseException:
            con.close()
            raise
    return con


REPAIR = "warehouse lake migrate --repair --db <lake url>"


def _check_current(con: duckdb.DuckDBPyConnection, settings: LakeSettings) -> None:
    from warehouse.store.migrate import check_version

    try:
        check_version(con, f"the lake {settings.describe()}", REPAIR)
    except SchemaVersionError as e:
        message = str(e).replace(
            "run 'warehouse migrate'", "run 'warehouse lake migrate --db <lake url>' once, from one place"
        )
        raise SchemaVersionError(message) from None


# ---------------------------------------------------------------- transactions

MAX_ATTEMPTS = 12


def in_transaction(con: duckdb.DuckDBPyConnection, body: Callable[[], object]) -> None:
    con.execute("BEGIN")
    try:
        body()
        con.execute("COMMIT")
    except BaseException:
        _rollback_quietly(con)
        raise


def _rollback_quietly(con: duckdb.DuckDBPyConnection) -> None:
    import duckdb

    with contextlib.suppress(duckdb.TransactionException):  # a failed COMMIT already ended it
        con.execute("ROLLBACK")


def is_conflict(error: BaseException) -> bool:
    """A DuckLake commit conflict (retry from a fresh snapshot), anywhere in the chain."""
    seen: BaseException | None = error
    while seen is not None:
        text = str(seen)
        if "Transaction conflict" in text or "Failed to commit DuckLake transaction" in text:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def retrying(body: Callable[[], object], on_retry: Callable[[], None] | None = None) -> None:
    """Run body, redoing it after a DuckLake commit conflict (jittered backoff)."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            body()
            return
        except Exception as e:
            if not is_conflict(e) or attempt == MAX_ATTEMPTS - 1:
                raise
            if on_retry is not None:
                on_retry()
            time.sleep(random.uniform(0.02, 0.1) * (1.5**attempt))


# ---------------------------------------------------------------- migrations


def migrate_lake(
    url: str, *, config: Config | None = None, data_path: str | None = None, repair: bool = False
) -> list[str]:
    """Create the lake if needed and apply pending migrations, serialized across machines
    (after `repair`ing the checksums of changed migrations: warehouse/store/repair.py).

    Returns the names of the migrations applied (empty when already current).
    """
    from warehouse.store.lake.claims import advisory_lock
    from warehouse.store.migrate import migrate

    settings = settings_for(url, config, data_path=data_path)
    if settings.data_path and "://" not in settings.data_path:  # a local or shared folder
        local = Path(settings.data_path).expanduser().resolve()
        local.mkdir(parents=True, exist_ok=True)
        settings = dataclasses.replace(settings, data_path=f"{local}/")
    with advisory_lock(settings.conninfo, MIGRATE_LOCK_KEY):
        created = False
        try:
            con = connect(settings, read_only=False)
        except UsageError:  # no lake yet: create it, which needs a data path
            if not settings.data_path:
                raise UsageError(
                    "a new lake needs a data path: pass --data-path (a folder or "
                    "s3://bucket/prefix/) or set [lake] data_path in warehouse.toml"
                ) from None
            con, created = connect(settings, read_only=False, create=True), True
        try:
            if created:  # persisted in the catalog, for every client (before any view exists)
                con.execute(f"CALL ducklake_set_option('{ALIAS}', 'data_inlining_row_limit', 0)")
            done = migrate(con, repair=repair, repair_hint=REPAIR)
        finally:
            con.close()
    return [f"{m.number:04d}_{m.name}" for m in done]
