"""The `prices` table: model prices per million tokens, kept equal to warehouse.toml's [prices]."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

    from warehouse.core.config import Price


def sync_prices(con: duckdb.DuckDBPyConnection, prices: Mapping[str, Price]) -> int:
    """Replace the `prices` table with warehouse.toml's [prices] (call inside a writer)."""
    con.execute("DELETE FROM prices")
    rows = [(model, p.input_per_mtok, p.output_per_mtok) for model, p in sorted(prices.items())]
    if rows:
        con.executemany("INSERT INTO prices VALUES (?, ?, ?)", rows)
    return len(rows)
