"""docs/views.md for gen_docs.py: every view file and its objects, read from a migrated database.

Each view file's version, kind, header comment and migration, every view's and table macro's
columns with their types, the plain macros' parameters, and the core tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from gen_docs_common import NOTICE, anchor

if TYPE_CHECKING:
    import duckdb

_INCLUDE = re.compile(r"^--\s*include:\s*views/(\S+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class ViewFile:
    file: str  # model_ranking_v1.sql
    name: str
    version: int
    kind: str
    summary: str
    comment: str  # the whole header comment, '-- ' stripped
    objects: tuple[str, ...]
    migration: str  # the migration that includes it


def header_comment(text: str) -> str:
    """The leading `--` comment block of a .sql file ('' when there is none)."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[3:] if line.startswith("-- ") else line[2:])
    return "\n".join(lines).rstrip()


def view_files() -> list[ViewFile]:
    from warehouse.apps.analysis import list_views  # raises on a view file without its header line

    includes: dict[str, str] = {}
    for entry in sorted(resources.files("sql.migrations").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql"):
            for included in _INCLUDE.findall(entry.read_text(encoding="utf-8")):
                includes.setdefault(included, entry.name.removesuffix(".sql"))
    found = []
    for info in list_views():
        file = f"{info.name}_v{info.version}.sql"
        text = resources.files("sql").joinpath("views", file).read_text(encoding="utf-8")
        objects = tuple(o for o in info.objects.split(", ") if o)
        found.append(
            ViewFile(
                file,
                info.name,
                info.version,
                info.kind,
                info.description,
                header_comment(text),
                objects,
                includes.get(file, "(no migration)"),
            )
        )
    return found


def migrated_database() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory database with every migration applied."""
    import duckdb

    from warehouse.store.migrate import migrate

    con = duckdb.connect(
        ":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    migrate(con)
    return con


def view_columns(con: duckdb.DuckDBPyConnection, view: str) -> list[tuple[str, str]]:
    return [
        (str(name), str(dtype))
        for name, dtype in con.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
            [view],
        ).fetchall()
    ]


def macro_signatures(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, list[str]]]:
    """Public macros: name -> (macro | table_macro, parameters)."""
    rows = con.execute(
        "SELECT function_name, function_type, parameters FROM duckdb_functions()"
        " WHERE NOT internal AND schema_name = 'main' AND function_type IN ('macro', 'table_macro')"
        " AND function_name NOT LIKE '\\_%' ESCAPE '\\'"
    ).fetchall()
    return {str(name): (str(kind), [str(p) for p in params]) for name, kind, params in rows}


def table_macro_columns(
    con: duckdb.DuckDBPyConnection, name: str, params: list[str]
) -> list[tuple[str, str]]:
    """Output columns of a table macro: called with its defaults, else typed NULL arguments."""
    import duckdb

    calls = [f"{name}()"] + [
        f"{name}({', '.join([f'NULL::{t}'] * len(params))})" for t in ("VARCHAR", "DOUBLE")
    ]
    for call in calls:
        try:
            return [(str(r[0]), str(r[1])) for r in con.execute(f"DESCRIBE SELECT * FROM {call}").fetchall()]
        except duckdb.Error:
            continue
    return []


def _aliases(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Unversioned name -> the versioned object it points at (views and table macros)."""
    out = {}
    for name, sql in con.execute(
        "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'"
    ).fetchall():
        target = re.search(r"SELECT \* FROM (\w+_v\d+)\s*;?\s*$", sql.strip(), re.IGNORECASE)
        if target and not re.search(r"_v\d+$", name):
            out[target.group(1)] = name
    for name, definition in con.execute(
        "SELECT function_name, macro_definition FROM duckdb_functions()"
        " WHERE NOT internal AND schema_name = 'main' AND function_type = 'table_macro'"
    ).fetchall():
        target = re.match(r"SELECT \* FROM (\w+_v\d+)\(", definition or "")
        if target and not re.search(r"_v\d+$", name):
            out[target.group(1)] = name
    return out


def views_markdown() -> str:
    from warehouse.store.migrate import code_version

    con = migrated_database()
    try:
        return _views_markdown(con, view_files(), code_version())
    finally:
        con.close()


def _views_markdown(con: duckdb.DuckDBPyConnection, files: list[ViewFile], schema: int) -> str:
    aliases = _aliases(con)
    macros = macro_signatures(con)
    views = {
        str(r[0]) for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    }
    out = [
        "# Views, macros and tables",
        "",
        NOTICE.format(what=f"from a freshly migrated database, schema {schema:04d}"),
        "",
        "Each view file `sql/views/<name>_v<N>.sql` creates versioned objects (`model_ranking_v1`); the",
        "unversioned name (`model_ranking`) points at the latest version. Query the unversioned name",
        "interactively; pin the versioned one in code that must not change under you. A view whose",
        "columns change incompatibly gets a new version in a new migration.",
        "",
        "| name | version | kind | description |",
        "|---|---|---|---|",
    ]
    out += [f"| [`{f.name}`](#{anchor(f.name)}) | v{f.version} | {f.kind} | {f.summary} |" for f in files]
    out.append("")
    for f in files:
        out += _view_section(con, f, aliases, macros, views)
    out += _tables_section(con)
    return "\n".join(out)


def _view_section(
    con: duckdb.DuckDBPyConnection,
    f: ViewFile,
    aliases: dict[str, str],
    macros: dict[str, tuple[str, list[str]]],
    views: set[str],
) -> list[str]:
    out = [
        f"## {f.name}",
        "",
        f"v{f.version} · {f.kind} · `sql/views/{f.file}` · migration `{f.migration}`",
        "",
    ]
    out += ["```text", f.comment, "```", ""]
    for obj in f.objects:
        latest = f" (latest as `{aliases[obj]}`)" if obj in aliases else ""
        if obj in views:
            out += [f"View `{obj}`{latest}:", "", *_column_table(view_columns(con, obj)), ""]
        elif obj in macros and macros[obj][0] == "table_macro":
            params = macros[obj][1]
            out += [f"Table macro `{obj}({', '.join(params)})`{latest}:", ""]
            out += [*_column_table(table_macro_columns(con, obj, params)), ""]
        elif obj in macros:
            out.append(f"- macro `{obj}({', '.join(macros[obj][1])})`")
    if out[-1] != "":
        out.append("")
    return out


def _column_table(columns: list[tuple[str, str]]) -> list[str]:
    if not columns:
        return ["(columns depend on the arguments)"]
    return ["| column | type |", "|---|---|", *(f"| `{name}` | {dtype} |" for name, dtype in columns)]


def _tables_section(con: duckdb.DuckDBPyConnection) -> list[str]:
    out = ["## Tables", "", "Written by `warehouse ingest` (sql/migrations/0001_core_tables.sql):", ""]
    tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT internal AND schema_name = 'main' ORDER BY 1"
    ).fetchall()
    for (table,) in tables:
        cols = view_columns(con, str(table))
        out.append(f"- `{table}`: " + ", ".join(f"`{name}` {dtype}" for name, dtype in cols))
    return [*out, ""]
