"""Feed a foreign file's converted records into the exact loader's sink, one per line number."""

from __future__ import annotations

import orjson

from ingest.importers import ImportFailed, convert
from ingest.lines import Sink


def feed(path: str, file_id: int, sink: Sink) -> tuple[int, int, int]:
    """(lines, good, quarantined) after converting `path`: record n becomes line n (its `line`
    is the converted record as JSON). A file that cannot be converted gets one quarantine row
    with the reason, after whatever records came before the failure."""
    lines = good = bad = 0
    try:
        for record in convert(path):
            raw = orjson.dumps(record)
            lines += 1
            sink.good(file_id, lines, 0, raw, record)
            good += 1
    except (ImportFailed, orjson.JSONEncodeError) as e:
        lines += 1
        sink.quarantine(file_id, lines, 0, f"import failed: {e}", b"")
        bad += 1
    return lines, good, bad
