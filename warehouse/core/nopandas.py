"""Ingest processes run as if pandas were not installed.

DuckDB 1.5 imports pandas the first time a statement binds a parameter (to recognise pandas' NA
values), and pyarrow's pandas shim does the same when it builds a table: 0.3-0.4 s of a one-line
ingest (1.8 s on a loaded machine), more than all the rest of its work. Nothing an ingest binds
is a pandas object and pandas is an optional extra (`notebook`), so the `warehouse ingest`
process and its watch worker hide it: importing it raises ModuleNotFoundError, as when it is not
installed. Library use never calls this (a notebook's warehouse.connect().df() needs pandas).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType


class _HidePandas:
    """A meta path finder that finds pandas nowhere."""

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden from ingest)", name=name)
        return None


def hide_pandas() -> None:
    """From now on this process cannot import pandas, unless it already has."""
    if "pandas" in sys.modules or any(isinstance(f, _HidePandas) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _HidePandas())
