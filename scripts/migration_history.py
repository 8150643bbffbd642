"""Every raw-text checksum each migration had in the git history (what older code recorded).

Databases made before normalised checksums recorded sha256(text with includes expanded)[:16].
warehouse/store/checksums.py keeps those values in `HISTORICAL`, frozen; this script shows where
they came from (each value with the first commit that had it), to check that table or extend it
when a migration changed on main before this code landed.

    python scripts/migration_history.py            # all of HEAD's history
    python scripts/migration_history.py main~20    # the history of another revision
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys

_NAME = re.compile(r"sql/migrations/(\d{4})_([a-z0-9_]+)\.sql$")
_INCLUDE = re.compile(r"^--\s*include:\s*(\S+)\s*$", re.MULTILINE)


def git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, check=True, text=True).stdout


def _expand(commit: str, text: str) -> str:
    """The migration with its includes replaced by the view files as they were at `commit`."""

    def view(match: re.Match[str]) -> str:
        return git("show", f"{commit}:sql/{match.group(1)}")

    return _INCLUDE.sub(view, text)


def raw_checksums(revision: str) -> dict[str, dict[str, str]]:
    """migration file -> {raw checksum: first commit (short) whose text had it}."""
    seen: dict[str, dict[str, str]] = {}
    for commit in git("rev-list", "--reverse", revision, "--", "sql/").split():
        for path in git("ls-tree", "--name-only", commit, "sql/migrations/").split():
            if not _NAME.match(path):
                continue
            text = git("show", f"{commit}:{path}")
            text = _expand(commit, text)
            value = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
            seen.setdefault(path, {}).setdefault(value, commit[:7])
    return seen


def main(argv: list[str]) -> int:
    for path, values in raw_checksums(argv[0] if argv else "HEAD").items():
        print(path)
        for value, commit in values.items():
            subject = git("log", "-1", "--format=%ad %s", "--date=short", commit)[:70].strip()
            print(f"  {value}  first at {commit}  {subject}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
