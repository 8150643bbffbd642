"""The directory scan: every log file under a runs directory, with one stat each.

A no-op or one-line ingest over 20,000 files spends most of its time here (the stats are system
calls: ~0.13 s) and in loading DuckDB and reading the manifest (~0.1 s). The two do not depend
on each other, and threads do not overlap them (the GIL), so `Background` runs this file as a
script in two helper processes (each takes the subfolders whose names hash to it) while the
ingest loads DuckDB; they send their rows back through a pipe (marshal). A helper is an isolated
interpreter without site-packages (`-I -S`): this module needs only the standard library and
must not import the `ingest` package.

Symbolic links are followed, each real file once: a link to a folder (or log file) outside the
runs directory is scanned under the link's name; a link to something scanned through another
path (inside the runs directory, or inside another link's target, the first in path order) is
skipped, and folders scanned already are left out of a link's target that holds them, so no
file is loaded twice and no link loops. Links are rare, so helpers only report them and `scan`
/ `Background.result` follow them in this process, in path order.

A file or folder that vanishes during the scan is left out (the next ingest sees the new state);
any other error, and any doubt about a helper's answer, means the scan runs again in-process,
where its error surfaces as it is.
"""

from __future__ import annotations

import marshal
import os
import stat
import sys
import zlib

TYPE_CHECKING = False  # not typing's: importing typing would cost each helper ~10 ms
if TYPE_CHECKING:
    import subprocess

SKIP_DIRS = frozenset({"_aggregated", "_archive", "_catalog"})
OWN_SUFFIXES = (".duckdb", ".duckdb.wal")  # the warehouse itself may live in runs/
HELPERS = 2  # this machine class has 2 cores; the ingest itself uses the CPU meanwhile too

# One row per log file, in the field order of ingest.discover.Found.
Row = tuple[str, str, str, int, int, int]  # (path, relpath, kind, size, mtime_ns, inode)
Link = tuple[str, str]  # (path, relpath) of a symbolic link met on the way
Scanned = tuple[list[Row], list[str], list[Link]]  # rows, skipped relpaths, links


def log_kind(name: str) -> str | None:
    if name.endswith(".jsonl"):
        return "jsonl"
    if name.endswith(".jsonl.recovered"):
        return "recovered"
    if name.endswith(".jsonl.gz"):
        return "gz"
    return None


def scan(root: str) -> tuple[list[Row], list[str]]:
    """(log files sorted by relpath, relpaths of skipped files and links, sorted) under `root`,
    an absolute path."""
    return _finish(root, _walk(root, len(root) + 1))


def _walk(
    top: str, cut: int, part: int = 0, parts: int = 1, exclude: frozenset[str] = frozenset()
) -> Scanned:
    """One pass under `top` without following links, leaving out the folders in `exclude`;
    relpaths are `path[cut:]`. Plain strings: pathlib cost more than the stats on 20k files.

    `part` of `parts`: only the files directly in `top` (part 0) and the subfolders of `top`
    whose name hashes to `part`, so that `parts` helpers share one scan."""
    rows: list[Row] = []
    skipped: list[str] = []
    links: list[Link] = []
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            entries = os.scandir(folder)
        except (FileNotFoundError, NotADirectoryError):
            if folder == top:
                raise
            continue  # removed (or replaced by a file) since its parent was listed
        with entries:
            for entry in entries:
                name = entry.name
                if name[0] == "." or name in SKIP_DIRS:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if (folder != top or _owner(name, parts) == part) and entry.path not in exclude:
                        stack.append(entry.path)
                    continue
                if folder == top and part != 0:
                    continue
                kind = log_kind(name)
                if not entry.is_file(follow_symlinks=False):
                    if entry.is_symlink():
                        links.append((entry.path, entry.path[cut:]))
                    continue
                if kind is None:
                    if not name.endswith(OWN_SUFFIXES):
                        skipped.append(entry.path[cut:])
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue  # removed since the folder was listed
                rows.append((entry.path, entry.path[cut:], kind, st.st_size, st.st_mtime_ns, st.st_ino))
    return rows, skipped, links


def _owner(name: str, parts: int) -> int:
    return zlib.crc32(name.encode("utf-8", "surrogateescape")) % parts if parts > 1 else 0


def _finish(root: str, scanned: Scanned) -> tuple[list[Row], list[str]]:
    """Follow the links, then sort."""
    rows, skipped, links = scanned
    if links:
        _follow(root, rows, skipped, links)
    rows.sort(key=lambda row: row[1])
    skipped.sort()
    return rows, skipped


def _follow(root: str, rows: list[Row], skipped: list[str], links: list[Link]) -> None:
    """Add what the links lead to, each real file once (see the module's docstring)."""
    cut = len(root) + 1
    taken = [os.path.realpath(root)]  # real paths scanned: the runs directory, then link targets
    queue = sorted(links, key=lambda link: link[1], reverse=True)
    while queue:
        path, rel = queue.pop()
        target = os.path.realpath(path)
        try:
            st = os.stat(target)
        except OSError:
            st = None  # a broken link
        if st is None or any(_within(target, t) for t in taken):
            skipped.append(rel)  # broken, or scanned through another path already
            continue
        if stat.S_ISDIR(st.st_mode):
            # What inside it was scanned already (the runs directory itself, when the link leads
            # to one of its ancestors; earlier links' targets) is left out under this name.
            inner = frozenset(path + t[len(target.rstrip("/")) :] for t in taken if _within(t, target))
            taken.append(target)
            try:
                more_rows, more_skipped, more_links = _walk(path, cut, exclude=inner)
            except (FileNotFoundError, NotADirectoryError):
                continue  # removed meanwhile
            rows += [row for row in more_rows if row[0] not in inner]  # (files taken as links)
            skipped += more_skipped
            queue = sorted(queue + more_links, key=lambda link: link[1], reverse=True)
            continue
        name = os.path.basename(path)
        kind = log_kind(name)
        if kind is None or not stat.S_ISREG(st.st_mode):
            if not name.endswith(OWN_SUFFIXES):
                skipped.append(rel)
            continue
        taken.append(target)
        rows.append((path, rel, kind, st.st_size, st.st_mtime_ns, st.st_ino))


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


class Background:
    """`scan(root)` shared by helper processes, started now; `result()` waits for them."""

    def __init__(self, root: str, parts: int = HELPERS) -> None:
        import subprocess  # here, not at the top: the helpers themselves need none of it

        self.root = root
        self._answer: tuple[list[Row], list[str]] | None = None
        self._helpers: list[subprocess.Popen[bytes]] = []
        script = os.path.abspath(__file__)
        try:
            for part in range(parts):
                self._helpers.append(
                    subprocess.Popen(
                        [sys.executable, "-I", "-S", script, root, str(part), str(parts)],
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.DEVNULL,
                    )
                )
        except OSError:
            self._stop()  # no helpers: result() scans in-process

    def __enter__(self) -> Background:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()  # helpers whose answer nobody took (an error ended the ingest first)

    def _stop(self) -> None:
        helpers, self._helpers = self._helpers, []
        for helper in helpers:
            helper.kill()
            helper.communicate()

    def result(self) -> tuple[list[Row], list[str]]:
        if self._answer is None:
            merged = self._from_helpers()
            self._answer = _finish(self.root, merged) if merged else scan(self.root)
        return self._answer

    def _from_helpers(self) -> Scanned | None:
        """The helpers' answers together, or None if any of them failed (or there were none)."""
        helpers, self._helpers = self._helpers, []
        merged: Scanned = ([], [], [])
        try:
            for helper in helpers:
                out, _ = helper.communicate()
                if helper.returncode != 0:
                    return None
                for whole, part in zip(merged, marshal.loads(out), strict=True):
                    whole += part
        except (EOFError, ValueError, TypeError):
            return None
        finally:
            self._helpers = [h for h in helpers if h.returncode is None]
            self._stop()
        return merged if helpers else None


def main(argv: list[str]) -> int:
    """A helper: one part of the scan of argv[0] (part argv[1] of argv[2]), marshalled to stdout."""
    root, part, parts = argv[0], int(argv[1]), int(argv[2])
    sys.stdout.buffer.write(marshal.dumps(_walk(root, len(root) + 1, part, parts)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
