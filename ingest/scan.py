"""The directory scan: every log file under a runs directory, with one stat each.

A no-op or one-line ingest over 20,000 files spends most of its time here (the stats are system
calls: ~0.13 s) and in loading DuckDB and reading the manifest (~0.1 s). The two do not depend
on each other, and threads do not overlap them (the GIL), so `Background` runs this file as a
script in a helper process while the ingest loads DuckDB; it sends its rows back through a pipe
(marshal). The helper is an isolated interpreter without site-packages (`-I -S`): this module
needs only the standard library and must not import the `ingest` package. (Two helpers, each
taking half the subfolders, were measured too: no faster on 2 cores, and more CPU.)

Symbolic links are followed, each real file once: a link to a folder (or log file) outside the
runs directory is scanned under the link's name; a link to something scanned through another
path (inside the runs directory, or inside another link's target, the first in path order) is
skipped, and folders scanned already are left out of a link's target that holds them, so no
file is loaded twice and no link loops. Links are rare, so the helper only reports them and
`scan` / `Background.result` follow them in this process, in path order.

A file or folder that vanishes during the scan is left out (the next ingest sees the new state);
any other error, and any doubt about the helper's answer, means the scan runs again in-process,
where its error surfaces as it is.
"""

from __future__ import annotations

import marshal
import os
import stat
import sys

TYPE_CHECKING = False  # not typing's: importing typing would cost the helper ~10 ms
if TYPE_CHECKING:
    import subprocess

SKIP_DIRS = frozenset({"_aggregated", "_archive", "_catalog"})
OWN_SUFFIXES = (".duckdb", ".duckdb.wal")  # the warehouse itself may live in runs/

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


def _walk(top: str, cut: int, exclude: frozenset[str] = frozenset()) -> Scanned:
    """One pass under `top` without following links, leaving out the folders in `exclude`;
    relpaths are `path[cut:]`. Plain strings: pathlib cost more than the stats on 20k files."""
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
                    if entry.path not in exclude:
                        stack.append(entry.path)
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
    """`scan(root)` in a helper process, started now; `result()` waits for its answer."""

    def __init__(self, root: str) -> None:
        import subprocess  # here, not at the top: the helper itself needs none of it

        self.root = root
        self._answer: tuple[list[Row], list[str]] | None = None
        try:
            self._helper: subprocess.Popen[bytes] | None = subprocess.Popen(
                [sys.executable, "-I", "-S", os.path.abspath(__file__), root],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            self._helper = None  # no helper: result() scans in-process

    def __enter__(self) -> Background:
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop a helper whose answer nobody took (an error ended the ingest first)."""
        helper, self._helper = self._helper, None
        if helper is not None:
            helper.kill()
            helper.communicate()

    def result(self) -> tuple[list[Row], list[str]]:
        if self._answer is None:
            scanned = self._from_helper()
            self._answer = _finish(self.root, scanned) if scanned else scan(self.root)
        return self._answer

    def _from_helper(self) -> Scanned | None:
        """The helper's answer, or None if it failed (or never started)."""
        helper, self._helper = self._helper, None
        if helper is None:
            return None
        try:
            out, _ = helper.communicate()
        except BaseException:
            helper.kill()
            helper.communicate()
            raise
        if helper.returncode != 0:
            return None
        try:
            rows, skipped, links = marshal.loads(out)
        except (EOFError, ValueError, TypeError):
            return None
        return rows, skipped, links


def main(argv: list[str]) -> int:
    """The helper: the links-unfollowed scan of argv[0], marshalled to stdout."""
    sys.stdout.buffer.write(marshal.dumps(_walk(argv[0], len(argv[0]) + 1)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
