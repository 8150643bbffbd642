"""Which storage a `--db` value names, decided once: an embedded DuckDB file or a DuckLake.

Every caller that must act differently for the two asks `backend_for(db)` instead of testing the
string itself, so the rule that tells them apart lives here alone.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import Enum

from warehouse.core.errors import UsageError

LAKE_PREFIX = "ducklake:"
# What DuckDB reads as something other than a file of that name: its in-memory database, and a
# `name:` prefix (MotherDuck's md: / motherduck:, or an extension such as sqlite: it would load).
_NOT_A_FILE = re.compile(r"^(:memory:|[A-Za-z][A-Za-z0-9_+.-]*:)")


class Kind(Enum):
    EMBEDDED = "embedded"  # one DuckDB file, published by rename (warehouse/store/snapshot.py)
    LAKE = "lake"  # a DuckLake catalog plus data files (warehouse/store/lake/)


@dataclass(frozen=True)
class Backend:
    """The storage behind one `--db` value."""

    kind: Kind
    target: str  # the file path, or the lake URL as given

    @property
    def is_lake(self) -> bool:
        return self.kind is Kind.LAKE

    @property
    def is_embedded(self) -> bool:
        return self.kind is Kind.EMBEDDED


def backend_for(db: str | os.PathLike[str]) -> Backend:
    """The backend a `--db` value names: a `ducklake:` URL is a lake, a path a file. A value DuckDB
    would not open as a file (`:memory:`, `md:x`, `sqlite:x`) is refused: the writer would make a
    file of that name that every reader then opens as something else."""
    text = os.fspath(db)
    if text.startswith(LAKE_PREFIX):
        return Backend(Kind.LAKE, text)
    match = _NOT_A_FILE.match(text)
    if match:
        prefix = match.group(1)
        what = "its in-memory database" if prefix.startswith(":memory:") else f"a {prefix} target"
        raise UsageError(
            f"--db {text}: DuckDB reads this as {what}, not as a file; give a file path such as "
            f"runs/runs.duckdb (for a file really named so, write ./{text}), or a ducklake: URL"
        )
    return Backend(Kind.EMBEDDED, text)
