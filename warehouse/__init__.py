"""runs-warehouse: a DuckDB warehouse of LLM-evaluation run logs.

Notebook use:  import warehouse; con = warehouse.connect()   # read-only, published snapshot
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warehouse.config import DEFAULT_DB

if TYPE_CHECKING:
    import duckdb

__all__ = ["connect", "__version__"]
__version__ = "0.1.0"


def connect(db: str | None = None) -> duckdb.DuckDBPyConnection:
    """Read-only connection to the published database (default runs/runs.duckdb).

    Works with .df(), .arrow(), .pl(). Ingest never waits for it: re-connect to see new data.
    """
    from warehouse.config import load_config
    from warehouse.db import open_reader

    return open_reader(db or load_config().db or DEFAULT_DB)
