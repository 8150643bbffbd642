"""What an ingest reports: the summary (stderr line, --json), phase timings, progress, ingest_log."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from warehouse import __version__
from warehouse.core.logformat import SCHEMA_VERSION

if TYPE_CHECKING:
    import duckdb

    from ingest.load import FileOutcome


@dataclass
class IngestSummary:
    runs_dir: str
    db: str
    load_id: int | None = None
    files_new: int = 0
    files_grown: int = 0
    files_rewritten: int = 0
    files_unchanged: int = 0
    files_missing: int = 0
    files_relinked: int = 0
    files_fast_path: int = 0
    files_skipped: int = 0
    lines_good: int = 0
    lines_quarantined: int = 0
    lines_blank: int = 0
    lines_newer_schema: int = 0  # loaded lines whose schema_version is newer than this code's
    values_out_of_range: int = 0  # typed values rescaled or made NULL (ingest/bounds.py)
    bytes_read: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase, for benchmarks
    skipped_examples: list[str] = field(default_factory=list)
    # files and folders that could not be read (permissions, a name not UTF-8): left out, retried
    # by the next ingest; `relpath: reason`, the first few
    files_unreadable: int = 0
    unreadable_examples: list[str] = field(default_factory=list)

    def note_unreadable(self, problems: list[str]) -> None:
        self.files_unreadable += len(problems)
        self.unreadable_examples = (self.unreadable_examples + problems)[:UNREADABLE_SHOWN]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def line(self) -> str:
        return (
            f"files: {self.files_new} new, {self.files_grown} grown, {self.files_rewritten} "
            f"rewritten, {self.files_unchanged} unchanged, {self.files_missing} missing; "
            f"lines: {self.lines_good} loaded, {self.lines_quarantined} quarantined, "
            f"{self.lines_blank} blank; {self.bytes_read / 2**20:.1f} MB in {self.seconds:.2f} s"
            + self._notes()
        )

    def newer_schema_note(self) -> str:
        """'WARNING ...' when lines of a newer log schema were loaded, else ''."""
        if not self.lines_newer_schema:
            return ""
        return (
            f"WARNING {self.lines_newer_schema} line(s) logged with a schema_version newer than "
            f"{SCHEMA_VERSION}: kept as logged, but their typed columns may be wrong: upgrade "
            "runs-warehouse (see the schema_drift table)"
        )

    def _notes(self) -> str:
        """What needs a look, if anything (see `warehouse status` and the schema_drift table)."""
        notes = []
        if self.files_unreadable:
            notes.append(
                f"{self.files_unreadable} file(s) or folder(s) could not be read and were left out"
                f" (tried again next ingest), e.g. {'; '.join(self.unreadable_examples[:3])}"
            )
        if self.values_out_of_range:
            notes.append(
                f"{self.values_out_of_range} typed values out of range (kept raw in records.line,"
                " typed as NULL or rescaled; see schema_drift)"
            )
        if self.lines_newer_schema:
            notes.append(self.newer_schema_note())
        return "".join(f"; {n}" for n in notes)


class Phases:
    """Accumulates wall seconds per named phase into the summary."""

    def __init__(self, summary: IngestSummary) -> None:
        self.summary, self.mark = summary, time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.summary.phases[name] = round(self.summary.phases.get(name, 0.0) + now - self.mark, 3)
        self.mark = now


class Reporter:
    """Progress on stderr for long ingests (silent when disabled or quick)."""

    def __init__(self, enabled: bool, total_bytes: int) -> None:
        self.enabled, self.total, self.done = enabled, max(total_bytes, 1), 0
        self.start = self.last = time.monotonic()

    def advance(self, nbytes: int) -> None:
        self.done += nbytes
        now = time.monotonic()
        if self.enabled and now - self.last >= 2.0:
            self.last = now
            rate = self.done / 2**20 / max(now - self.start, 1e-9)
            print(
                f"ingest: {100 * self.done / self.total:5.1f}%  {self.done / 2**20:.0f} MB  {rate:.0f} MB/s",
                file=sys.stderr,
                flush=True,
            )


def summarise(summary: IngestSummary, outcomes: list[FileOutcome], load_id: int, fast: int) -> None:
    summary.load_id, summary.files_fast_path = load_id, fast
    for o in outcomes:
        summary.lines_good += o.good
        summary.lines_quarantined += o.bad
        summary.lines_blank += o.blank
        summary.bytes_read += o.end - o.plan.start


UNREADABLE_KEY = "unreadable_last_ingest"
UNREADABLE_SHOWN = 20


def unreadable_json(summary: IngestSummary) -> str:
    return json.dumps({"count": summary.files_unreadable, "examples": summary.unreadable_examples})


def record_unreadable(con: duckdb.DuckDBPyConnection, summary: IngestSummary) -> None:
    """What this ingest could not read, for `warehouse status` (a settings row, written when it
    changed: concurrent lake writers then rarely touch the same row)."""
    value = unreadable_json(summary)
    row = con.execute("SELECT value FROM settings WHERE key = ?", [UNREADABLE_KEY]).fetchone()
    if (row[0] if row else unreadable_json(IngestSummary("", ""))) == value:
        return
    con.execute("DELETE FROM settings WHERE key = ?", [UNREADABLE_KEY])
    con.execute("INSERT INTO settings VALUES (?, ?)", [UNREADABLE_KEY, value])


def log_ingest(con: duckdb.DuckDBPyConnection, s: IngestSummary, started_at: datetime, load_id: int) -> None:
    finished = datetime.now(UTC).replace(tzinfo=None)
    con.execute(
        "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            load_id,
            started_at,
            finished,
            (finished - started_at).total_seconds(),
            s.runs_dir,
            s.files_new,
            s.files_grown,
            s.files_rewritten,
            s.files_unchanged,
            s.files_missing,
            s.files_fast_path,
            s.lines_good,
            s.lines_quarantined,
            s.lines_blank,
            s.bytes_read,
            __version__,
        ],
    )
