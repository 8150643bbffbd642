"""Turn run-log files into rows: discovery, manifest, line validation, records, path rules."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ingest.summary import IngestSummary
from warehouse.store.backend import backend_for

if TYPE_CHECKING:
    from warehouse.core.config import Config

__all__ = ["IngestSummary", "ingest_runs"]


def ingest_runs(
    runs_dir: str | Path,
    db: str | Path,
    *,
    config: Config | None = None,
    progress: bool = False,
    fast: bool = True,
) -> IngestSummary:
    """Bring every new, grown or rewritten log under runs_dir into db (a no-op if none).

    `db` is a file (the embedded warehouse, ingest/run.py) or a `ducklake:` URL (claims per file,
    ingest/lake.py); the backend is chosen here, once."""
    backend = backend_for(db)
    if backend.is_lake:
        from ingest.lake import ingest_lake

        return ingest_lake(str(runs_dir), backend.target, config=config, progress=progress, fast=fast)
    from ingest.run import ingest_embedded

    return ingest_embedded(str(runs_dir), backend.target, config=config, progress=progress, fast=fast)
