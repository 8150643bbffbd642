"""Importers: other harnesses' result files read as runs of the warehouse's own log format.

Each harness is one small module behind the `Importer` interface, chosen by the file's content
(`sniff` on its first bytes), not only by its name. The scan offers only files whose names can be
foreign results (`candidate`), and lists them as `import` files when an importer claims them (the
others stay skipped non-log files). The loader then feeds an importer's records to the line sink
one per line number; a claimed file that cannot be converted is quarantined with the reason.
See docs/importers.md for the field mapping of each harness.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from ingest.importers import inspect_log, lm_eval, promptfoo
from ingest.importers.common import ImportFailed

HEAD_BYTES = 8 * 1024  # every sniff needs only the first few KiB; the scan reads this per candidate


class Importer(Protocol):
    name: str

    def sniff(self, path: str, head: bytes) -> bool: ...

    def records(self, path: str) -> Iterator[dict[str, Any]]: ...


IMPORTERS: tuple[Importer, ...] = (inspect_log.IMPORTER, promptfoo.IMPORTER, lm_eval.IMPORTER)


def candidate(name: str) -> bool:
    """True for a file name that a foreign harness may have written (cheap: no read)."""
    return name.endswith((".eval", ".json")) or (name.startswith("samples_") and name.endswith(".jsonl"))


def claim(path: str) -> Importer | None:
    """The importer that recognises this file's content, if any."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError:
        return None
    for importer in IMPORTERS:
        if importer.sniff(path, head):
            return importer
    return None


def convert(path: str) -> Iterator[dict[str, Any]]:
    """The records of a foreign file; ImportFailed says why one cannot be read."""
    importer = claim(path)
    if importer is None:
        raise ImportFailed(
            "no importer recognises this file (not an Inspect log, promptfoo or lm-eval result)"
        )
    try:
        yield from importer.records(path)
    except ImportFailed:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
        raise ImportFailed(f"{importer.name} file cannot be read: {type(e).__name__}: {e}") from e


__all__ = ["IMPORTERS", "ImportFailed", "Importer", "candidate", "claim", "convert"]
