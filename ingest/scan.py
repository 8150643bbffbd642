"""The directory scan: every log file under a runs directory, with one stat each.

A no-op or one-line ingest over 20,000 files spends about a third of its time here: the stats
are system calls (~0.15 s). Running this scan in a helper process while the ingest loads DuckDB
was tried and measured (interleaved, 21 rounds on one 20k-file copy): no faster on this 2-core
machine than scanning in-process, so it runs in-process. Plain strings and `os.scandir`: pathlib
cost more than the stats on 20k files.

Symbolic links are followed, each real file once: a link to a folder (or log file) outside the
runs directory is scanned under the link's name; a link to something scanned through another
path (inside the runs directory, or inside another link's target, the first in path order) is
skipped, and folders scanned already are left out of a link's target that holds them, so no
file is loaded twice and no link loops. Links are rare, so the walk only collects them and
`_follow` takes them afterwards, in path order.

A file or folder that vanishes during the scan is left out (the next ingest sees the new state).
A sub-folder that cannot be listed (permissions) and a name that is not valid UTF-8 are left out
and reported as problems (`relpath: reason`), so one of them never blocks the other files; the
next ingest tries again. Names that are not UTF-8 are skipped rather than stored escaped: the
database keeps paths as text (VARCHAR is UTF-8), and an escaped path would no longer name the
file for the next ingest or the archiver. Any OSError on the runs directory itself reaches the
caller as it is.
"""

from __future__ import annotations

import os
import stat

from ingest.importers import candidate, claim

SKIP_DIRS = frozenset({"_aggregated", "_archive", "_catalog"})
OWN_SUFFIXES = (".duckdb", ".duckdb.wal")  # the warehouse itself may live in runs/

# One row per log file, in the field order of ingest.discover.Found.
Row = tuple[str, str, str, int, int, int]  # (path, relpath, kind, size, mtime_ns, inode)
Link = tuple[str, str]  # (path, relpath) of a symbolic link met on the way
Scanned = tuple[list[Row], list[str], list[Link], list[str]]  # rows, skipped relpaths, links, problems


def log_kind(name: str, path: str = "") -> str | None:
    """The kind of a file by its name; a name a foreign harness may have written is `import` when
    an importer recognises `path`'s content (ingest/importers)."""
    if path and candidate(name) and claim(path) is not None:
        return "import"
    if name.endswith(".jsonl"):
        return "jsonl"
    if name.endswith(".jsonl.recovered"):
        return "recovered"
    if name.endswith(".jsonl.gz"):
        return "gz"
    return None


def scan(root: str) -> tuple[list[Row], list[str], list[str]]:
    """(log files sorted by relpath, relpaths of skipped files and links, sorted, problems) under
    `root`, an absolute path. Links are followed after the walk."""
    rows, skipped, links, problems = _walk(root, len(root) + 1)
    if links:
        _follow(root, rows, skipped, links, problems)
    rows.sort(key=lambda row: row[1])
    skipped.sort()
    return rows, skipped, sorted(problems)


def printable(relpath: str) -> str:
    """A path as text even when its bytes are not UTF-8 (a backslash escape for each bad byte)."""
    return os.fsencode(relpath).decode("utf-8", "backslashreplace")


def _utf8(name: str) -> bool:
    if name.isascii():
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # os.scandir gives undecodable bytes as lone surrogates
        return False
    return True


def _walk(top: str, cut: int, exclude: frozenset[str] = frozenset()) -> Scanned:
    """One pass under `top` without following links, leaving out the folders in `exclude`;
    relpaths are `path[cut:]`."""
    rows: list[Row] = []
    skipped: list[str] = []
    links: list[Link] = []
    problems: list[str] = []
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            entries = os.scandir(folder)
        except (FileNotFoundError, NotADirectoryError):
            if folder == top:
                raise
            continue  # removed (or replaced by a file) since its parent was listed
        except OSError as e:
            if folder == top:
                raise
            problems.append(f"{printable(folder[cut:])}/: cannot list it ({e.strerror or e})")
            continue
        with entries:
            for entry in entries:
                name = entry.name
                if name[0] == "." or name in SKIP_DIRS:
                    continue
                if not (name.isascii() or _utf8(name)):
                    problems.append(f"{printable(entry.path[cut:])}: name is not valid UTF-8; rename it")
                    continue
                path = entry.path
                if entry.is_dir(follow_symlinks=False):
                    if path not in exclude:
                        stack.append(path)
                    continue
                if not entry.is_file(follow_symlinks=False):
                    if entry.is_symlink():
                        links.append((path, path[cut:]))
                    continue
                # Most files are plain logs: a .jsonl no importer could claim (see log_kind).
                plain = name.endswith(".jsonl") and not name.startswith("samples_")
                kind = _JSONL if plain else log_kind(name, path)
                if kind is None:
                    if not name.endswith(OWN_SUFFIXES):
                        skipped.append(path[cut:])
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue  # removed since the folder was listed
                rows.append((path, path[cut:], kind, st.st_size, st.st_mtime_ns, st.st_ino))
    return rows, skipped, links, problems


_JSONL = "jsonl"


def _follow(root: str, rows: list[Row], skipped: list[str], links: list[Link], problems: list[str]) -> None:
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
                more_rows, more_skipped, more_links, more_problems = _walk(path, cut, exclude=inner)
            except (FileNotFoundError, NotADirectoryError):
                continue  # removed meanwhile
            except OSError as e:
                problems.append(f"{printable(rel)}/: cannot list it ({e.strerror or e})")
                continue
            rows += [row for row in more_rows if row[0] not in inner]  # (files taken as links)
            skipped += more_skipped
            problems += more_problems
            queue = sorted(queue + more_links, key=lambda link: link[1], reverse=True)
            continue
        name = os.path.basename(path)
        kind = log_kind(name, target)
        if kind is None or not stat.S_ISREG(st.st_mode):
            if not name.endswith(OWN_SUFFIXES):
                skipped.append(rel)
            continue
        taken.append(target)
        rows.append((path, rel, kind, st.st_size, st.st_mtime_ns, st.st_ino))


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")
