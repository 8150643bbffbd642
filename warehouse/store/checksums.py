"""Checksums of migrations: what "this migration has not changed" means.

A migration's checksum is the sha256 of its text, with its `-- include:`d view files expanded and
then normalised: SQL comments (`-- ...` to the end of a line, `/* ... */`) dropped and every run
of whitespace made one space. A comment (the documentation of a view) may be corrected in a
released file; a change to any statement, even one character of a string literal, changes the
checksum and is refused when a database that applied the old text is opened.

The normaliser is written out here, not taken from a SQL library: a checksum must never move
because a dependency changed its idea of a token. It knows exactly three things: single-quoted
strings ('' escapes a quote), double-quoted identifiers, and the two comment forms; text inside a
string or identifier is kept byte for byte.

Databases written before these checksums recorded `sha256(expanded text)[:16]` of the raw text.
`HISTORICAL` lists, per migration, every such value a commit of main ever wrote, so those
databases open without a repair. The list is frozen: new migrations only ever record normalised
checksums.
"""

from __future__ import annotations

import contextlib
import hashlib
import re

from warehouse.core.atomic import atomic_write_text
from warehouse.core.config import cache_dir

_TOKEN = re.compile(
    r"""(?P<str>'(?:[^']|'')*')"""  # string literal, kept
    r"""|(?P<ident>"(?:[^"]|"")*")"""  # quoted identifier, kept
    r"""|(?P<gap>(?:\s+|--[^\n]*|/\*.*?\*/)+)""",  # comments and whitespace: one space
    re.DOTALL,
)


def _keep(match: re.Match[str]) -> str:
    return " " if match.lastgroup == "gap" else match.group(0)


def normalise(sql: str) -> str:
    """The statements of `sql` without comments, each gap between tokens made one space."""
    return _TOKEN.sub(_keep, sql).strip()


def checksum(expanded_sql: str) -> str:
    """sha256 (hex) of the normalised text: the value `_migrations.checksum` records.

    Every open needs it for every migration, and normalising them all takes ~25 ms (5% of a
    no-op ingest), so the result is kept in the cache folder under the sha256 of the exact
    text; an unreadable or malformed entry is computed again."""
    memo = cache_dir() / "checksums" / hashlib.sha256(expanded_sql.encode("utf-8")).hexdigest()
    with contextlib.suppress(OSError, UnicodeDecodeError):
        known = memo.read_text(encoding="ascii").strip()
        if _HEX64.fullmatch(known):
            return known
    value = normalised_checksum(expanded_sql)
    with contextlib.suppress(OSError):  # a read-only home: no memo, same answer
        memo.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(memo, value)
    return value


def normalised_checksum(expanded_sql: str) -> str:
    """sha256 (hex) of `normalise(expanded_sql)`, computed."""
    return hashlib.sha256(normalise(expanded_sql).encode("utf-8")).hexdigest()


_HEX64 = re.compile(r"[0-9a-f]{64}")


def legacy_checksum(expanded_sql: str) -> str:
    """What databases of earlier releases recorded: sha256 of the raw expanded text, 16 hex."""
    return hashlib.sha256(expanded_sql.encode("utf-8")).hexdigest()[:16]


# migration number -> {raw checksum recorded by an earlier release: the commit that first wrote it}.
# Computed once from the git history of sql/ by scripts/migration_history.py (each commit's
# migration with that commit's view files included). 0001 of the skeleton commit 3f00d44 is left
# out on purpose: its tables had PRIMARY KEY/UNIQUE constraints and sequences that no later
# migration removes, so such a database is not the schema this code expects (`warehouse migrate
# --repair` refuses it: its tables differ).
HISTORICAL: dict[int, dict[str, str]] = {
    1: {"36568bd5e044585a": "8394d8d"},
    2: {
        # before 475a046: no header_json view; the view files as they were at each commit. The
        # texts before ef4bfd3 (4a9981f, 5d64475, fa09b74, 24e9da1, 39ea8de) are left out: their
        # statistics macros put subqueries in lambdas, on which the v2 views (0008) fail to bind,
        # so such a database is refused until `warehouse migrate --repair` redefines them.
        "2fa851dc5562e7e0": "ef4bfd3",
        "6dd73ec2ceb480d0": "4a228d6",
        "b1145eb09fcf52eb": "7b16b8d",
        # 475a046 and after: header_json_v1 and its alias added to the released file
        "7dced16fa2f07a41": "475a046",
        "70fd95615feb287d": "f071228",  # the same statements, comments reworded
    },
    3: {
        "11759edf46bbc575": "475a046",
        "104ac6008cc9500b": "313efa2",
        "b5aa9bd2f7482402": "f071228",  # the same statements, comments reworded
    },
    # 842f816's first text (277530a2ffa78102, NULL macro defaults, replaced within the hour) is
    # left out: its macros differ from today's and no later migration redefines them, so such a
    # database is refused until `warehouse migrate --repair` gives them today's definitions.
    4: {"8c8663cc7f8527b2": "ab75274"},
    # 0005_task_views changed in place three times on its first day (821a9bb, 8b00cf4, 671379b);
    # only its last text is accepted, for the same reason as 0004's first one.
    5: {"36df3a3c9a2168e1": "c4ef856"},
    # 0006_learning likewise: five earlier texts of its first day (ed145e0 .. 838913c) left out.
    6: {"4ec56c490ea9277a": "f2541f3"},
    7: {"f82c843167075fb7": "d6e3b83"},
    8: {"0246a38cc12cd457": "bdc9ff0"},
}


def accepted(number: int, recorded: str, current: str) -> bool:
    """Whether a recorded checksum is the code's, or one an earlier release wrote for it."""
    return recorded == current or recorded in HISTORICAL.get(number, {})
