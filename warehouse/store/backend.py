"""Which storage a `--db` value names, decided once: an embedded DuckDB file or a DuckLake.

Every caller that must act differently for the two asks `backend_for(db)` instead of testing the
string itself, so the rule that tells them apart lives here alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum

LAKE_PREFIX = "ducklake:"


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
    """The backend a `--db` value names: a `ducklake:` URL is a lake, anything else a file."""
    text = os.fspath(db)
    kind = Kind.LAKE if text.startswith(LAKE_PREFIX) else Kind.EMBEDDED
    return Backend(kind, text)
