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
    direct: bool = False,
) -> IngestSummary:
    """Bring every new, grown or rewritten log under runs_dir into db (a no-op if none).

    `db` is a file (the embedded warehouse, ingest/run.py) or a `ducklake:` URL (claims per file,
    ingest/lake.py); the backend is chosen here, once. `direct`: the caller knows files changed
    (a watch round), so the embedded warehouse skips its read-only check and goes to the writer."""
    backend = backend_for(db)
    if backend.is_lake:
        from ingest.lake import ingest_lake

        return ingest_lake(str(runs_dir), backend.target, config=config, progress=progress, fast=fast)
    return _embedded(Path(runs_dir), backend.target, config, progress, fast, direct)


def _embedded(
    root: Path, db: str, config: Config | None, progress: bool, fast: bool, direct: bool
) -> IngestSummary:
    """The embedded warehouse: first the no-op check that needs no DuckDB (ingest/nochange.py),
    then ingest/run.py, which reuses its scan."""
    quick = None
    if root.is_dir():  # else ingest_embedded says what is wrong
        import time

        from ingest.nochange import check
        from warehouse.core.config import load_config

        started = time.perf_counter()
        config = config or load_config()
        quick = check(db, root, config)
        if quick.noop:
            summary = IngestSummary(runs_dir=str(root.resolve()), db=db, files_unchanged=len(quick.rows))
            summary.files_skipped, summary.skipped_examples = len(quick.skipped), quick.skipped[:5]
            summary.seconds = round(time.perf_counter() - started, 3)
            summary.phases["noop_check"] = summary.seconds
            return summary
    from ingest.run import ingest_embedded

    return ingest_embedded(
        str(root), db, config=config, progress=progress, fast=fast, quick=quick, direct=direct
    )
