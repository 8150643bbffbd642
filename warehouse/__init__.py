"""runs-warehouse: a DuckDB warehouse of LLM-evaluation run logs.

Notebook use:  import warehouse; con = warehouse.connect()   # read-only, published snapshot
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

__all__ = ["__version__", "connect"]
__version__ = "0.1.0"


def connect(db: str | None = None) -> duckdb.DuckDBPyConnection:
    """Read-only connection to the published database (default runs/runs.duckdb).

    Works with .df(), .arrow(), .pl(). Ingest never waits for it: re-connect to see new data.
    Each call opens the snapshot published now, even while an older connection is still open.
    """
    from warehouse.core.config import DEFAULT_DB, load_config
    from warehouse.core.errors import UsageError
    from warehouse.store.backend import backend_for
    from warehouse.store.db import open_reader

    path = str(db or load_config().db or DEFAULT_DB)
    if not backend_for(path).is_lake and not os.path.exists(path):
        raise UsageError(
            f"no database at {path}: run 'warehouse ingest' first, or name the file: "
            "warehouse.connect(db='path/to/runs.duckdb')"
        )
    if backend_for(path).is_lake:
        return open_reader(path)
    return _attach_snapshot(path)


def _attach_snapshot(path: str) -> duckdb.DuckDBPyConnection:
    """The file attached read-only to a fresh in-memory database, under its usual catalog name.

    duckdb.connect(path) would return the instance it cached for `path` while any connection
    to it is open, i.e. the snapshot that path held before the last publish.
    """
    from pathlib import Path

    import duckdb

    from warehouse.core.errors import DataError, LockedError
    from warehouse.store.migrate import check_version

    name = Path(path).stem if Path(path).stem not in ("memory", "system", "temp") else "warehouse"
    con = duckdb.connect(
        ":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    try:
        quoted = '"' + name.replace('"', '""') + '"'
        try:
            target = os.path.abspath(path)  # "md:x" (from ./md:x) stays a file, not a MotherDuck target
            con.execute(f"ATTACH '{target.replace(chr(39), chr(39) * 2)}' AS {quoted} (READ_ONLY)")
        except duckdb.IOException as e:
            error = LockedError if "lock" in str(e).lower() else DataError
            raise error(f"cannot open {path}: {str(e).splitlines()[0]}") from e
        con.execute(f"USE {quoted}")
        check_version(con, path)
    except BaseException:
        con.close()
        raise
    return con
