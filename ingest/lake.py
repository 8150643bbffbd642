"""Ingest into a DuckLake from many processes at once: every file exactly once.

The lead's ingest (`ingest/`) plans and loads files through a DuckDB connection in one
transaction. Here that is wrapped for the lake, batch by batch:

  claim the batch's paths in PostgreSQL (warehouse/store/lake/claims.py)
  -> read the manifest (a fresh lake snapshot: anything another writer committed is visible)
  -> plan and load in one lake transaction -> fence the claims -> COMMIT -> release the claims.

A file held by another writer is skipped and retried until it is free (by then it is usually
ingested, so the retry is a no-op) or until `wait_seconds` pass. DuckLake reports a conflict when
two transactions change the same table (an UPDATE of `files` or `schema_drift`), so a conflicting
batch is rolled back and redone from a fresh snapshot. Files missing from disk are marked missing
only under this runs directory: other machines' files are not this writer's business.
"""

from __future__ import annotations

import random
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.discover import Found, discover, plan, readable
from ingest.manifest import mark_missing, read_manifest, refresh_attributes
from ingest.run import LOAD_ACTIONS, IngestSummary, count_actions, load_plans
from warehouse.core.errors import UsageError
from warehouse.core.models import model_names
from warehouse.store.lake import connection as lake
from warehouse.store.lake.claims import Claims, advisory_lock
from warehouse.store.lake.connection import in_transaction, retrying
from warehouse.store.lake.maint import settle
from warehouse.store.lake.settings import settings_for

if TYPE_CHECKING:
    import duckdb

    from warehouse.core.config import Config

RULES_LOCK_KEY = 0x7275_6E73_7275_6C65  # "runsrule": one writer re-derives path attributes
# One lake commit per batch: ~0.1-0.4 s of catalog work each, and the unit writers share out.
BATCH_FILES = 64
BATCH_BYTES = 16 * 2**20
COMMAND = "warehouse lake ingest"


@dataclass
class LakeIngestSummary(IngestSummary):
    batches: int = 0
    conflicts_retried: int = 0
    files_busy: int = 0  # still claimed by another writer when we stopped waiting
    load_ids: list[int] = field(default_factory=list)

    def line(self) -> str:
        extra = f"; {self.batches} batch(es), {self.conflicts_retried} conflict retries"
        if self.files_busy:
            extra += f", {self.files_busy} file(s) left to other writers"
        return super().line() + extra


def ingest_lake(
    runs_dir: str,
    url: str,
    *,
    config: Config | None = None,
    progress: bool = False,
    fast: bool = True,
    only: Collection[str] | None = None,
    wait_seconds: float = 120.0,
    batch_files: int = BATCH_FILES,
    batch_bytes: int = BATCH_BYTES,
    shared_root: bool = False,
) -> LakeIngestSummary:
    """Bring new, grown and rewritten logs under runs_dir into the lake at url.

    `only` restricts the files loaded (absolute paths or paths relative to runs_dir); files
    missing from disk are still detected over the whole runs_dir. `shared_root`: runs_dir is one
    shared filesystem that other hosts ingest too (else each host needs its own path).
    """
    from warehouse.core.config import load_config

    root = Path(runs_dir)
    if not root.is_dir():
        raise UsageError(f"runs directory {runs_dir} does not exist: pass the folder holding your logs")
    config = config or load_config()
    settings = settings_for(url, config)
    started = time.perf_counter()
    summary = LakeIngestSummary(runs_dir=str(root.resolve()), db=settings.describe())
    on_disk, skipped, problems = discover(root)
    summary.files_skipped, summary.skipped_examples = len(skipped), skipped[:5]
    summary.note_unreadable(problems)
    todo = on_disk if only is None else [f for f in on_disk if f.path in only or f.relpath in only]
    with (
        lake.open_writer(url, COMMAND, config=config) as con,
        Claims(settings.conninfo, COMMAND, settings.claim_lease_seconds) as claims,
    ):
        claims.register_root(summary.runs_dir, shared=shared_root)
        _sync_rules(con, settings.conninfo, config)
        job = _Job(con, claims, root, config, summary, progress, fast)
        job.run(todo, wait_seconds, batch_files, batch_bytes)
        job.mark_missing(on_disk)
        retrying(lambda: settle(con, settings.conninfo))
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def _sync_rules(con: duckdb.DuckDBPyConnection, conninfo: str, config: Config) -> None:
    """Re-derive path attributes once, by one writer, when the rules changed."""
    with advisory_lock(conninfo, RULES_LOCK_KEY):
        names = model_names(config.models)
        retrying(lambda: in_transaction(con, lambda: refresh_attributes(con, config.path_rules, names)))


@dataclass
class _Job:
    con: duckdb.DuckDBPyConnection
    claims: Claims
    root: Path
    config: Config
    summary: LakeIngestSummary
    progress: bool
    fast: bool

    def run(self, todo: list[Found], wait_seconds: float, batch_files: int, batch_bytes: int) -> None:
        deadline = time.monotonic() + wait_seconds
        pending, delay = todo, 0.05
        while pending:
            busy: list[Found] = []
            for batch in _batches(pending, batch_files, batch_bytes):
                got = self.claims.claim(f.path for f in batch)
                mine = [f for f in batch if f.path in got]
                busy += [f for f in batch if f.path not in got]
                if not mine:
                    continue
                try:
                    self.load_batch(mine)
                finally:
                    self.claims.release(f.path for f in mine)
            if not busy or time.monotonic() >= deadline:
                self.summary.files_busy = len(busy)
                return
            time.sleep(delay)
            pending, delay = busy, min(delay * 2, 1.0)

    def load_batch(self, mine: list[Found]) -> None:
        self.summary.batches += 1
        retrying(lambda: self._load_once(mine), self._count_retry)

    def _count_retry(self) -> None:
        self.summary.conflicts_retried += 1

    def _load_once(self, mine: list[Found]) -> None:
        known, archived = read_manifest(self.con)  # a fresh snapshot, after our claims
        mine, unreadable = readable(mine)
        plans, _ = plan(mine, known, archived)
        part = IngestSummary(runs_dir=self.summary.runs_dir, db=self.summary.db)
        part.note_unreadable(unreadable)
        if any(p.action in LOAD_ACTIONS for p in plans):
            paths = [f.path for f in mine]
            load_plans(
                self.con,
                self.root,
                self.config,
                plans,
                part,
                fast=self.fast,
                progress=self.progress,
                before_commit=lambda: self.claims.fence(paths),
            )
        else:
            count_actions(plans, part)
        _add(self.summary, part)

    def mark_missing(self, on_disk: list[Found]) -> None:
        """Files of this runs dir that the lake lists as present but are gone from disk."""
        prefix = str(self.root.resolve()).rstrip("/") + "/"
        present = {f.path for f in on_disk}
        known, _ = read_manifest(self.con)
        gone = [
            k
            for k in known.values()
            if k.status == "present" and k.path.startswith(prefix) and k.path not in present
        ]
        if not gone:
            return
        got = self.claims.claim(k.path for k in gone)
        try:
            ids = [k.file_id for k in gone if k.path in got]

            def body() -> None:
                self.claims.fence(got)
                mark_missing(self.con, ids)

            retrying(lambda: in_transaction(self.con, body), self._count_retry)
            self.summary.files_missing += len(ids)
        finally:
            self.claims.release(got)


def _batches(files: list[Found], batch_files: int, batch_bytes: int) -> Iterator[list[Found]]:
    """Batches by count and bytes, in a random order so concurrent writers spread out."""
    batches: list[list[Found]] = []
    current: list[Found] = []
    size = 0
    for f in files:
        if current and (len(current) >= batch_files or size + f.size > batch_bytes):
            batches.append(current)
            current, size = [], 0
        current.append(f)
        size += f.size
    if current:
        batches.append(current)
    random.shuffle(batches)
    yield from batches


_SUMMED = (
    "lines_newer_schema",
    "files_new",
    "files_grown",
    "files_rewritten",
    "files_unchanged",
    "files_relinked",
    "files_fast_path",
    "lines_good",
    "lines_quarantined",
    "lines_blank",
    "bytes_read",
)


def _add(total: LakeIngestSummary, part: IngestSummary) -> None:
    for name in _SUMMED:
        setattr(total, name, getattr(total, name) + getattr(part, name))
    total.note_unreadable(part.unreadable_examples)
    if part.load_id is not None:
        total.load_ids.append(part.load_id)
        total.load_id = part.load_id
