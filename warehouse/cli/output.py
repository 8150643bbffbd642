"""Write query results to stdout as an aligned table, CSV or JSON (streamed in batches)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=str)
    return str(_plain(value))


def write_rows(
    columns: Sequence[str], batches: Iterator[list[tuple[Any, ...]]], fmt: str, out: IO[str] | None = None
) -> int:
    """Write rows in the chosen format; returns the row count."""
    out = out or sys.stdout
    if fmt == "csv":
        return _csv(columns, batches, out)
    if fmt == "json":
        return _json(columns, batches, out)
    return _table(columns, [row for batch in batches for row in batch], out)


def _csv(columns: Sequence[str], batches: Iterator[list[tuple[Any, ...]]], out: IO[str]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    n = 0
    for batch in batches:
        for row in batch:
            writer.writerow(
                ["" if v is None else _cell(v) if isinstance(v, (list, dict)) else _plain(v) for v in row]
            )
            n += 1
    return n


def _json(columns: Sequence[str], batches: Iterator[list[tuple[Any, ...]]], out: IO[str]) -> int:
    n = 0
    out.write("[")
    for batch in batches:
        for row in batch:
            out.write(",\n " if n else "\n ")
            out.write(json.dumps(dict(zip(columns, (_plain(v) for v in row), strict=False)), default=str))
            n += 1
    out.write("\n]\n" if n else "]\n")
    return n


def _table(columns: Sequence[str], rows: list[tuple[Any, ...]], out: IO[str]) -> int:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=False)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for r in cells:
        out.write("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() + "\n")
    return len(cells)
