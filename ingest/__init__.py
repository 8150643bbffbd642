"""Turn run-log files into rows: discovery, manifest, line validation, records, path rules."""

from __future__ import annotations

from ingest.run import IngestSummary, ingest_runs

__all__ = ["IngestSummary", "ingest_runs"]
