"""Help and docs that cannot drift: every command is documented with an example, every view file
has its header, `warehouse --help` groups commands by task, and `gen_docs.py --check` notices a
stale doc."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from types import ModuleType

import click
import pytest
from click.testing import CliRunner

from warehouse.cli import SECTIONS, cli

ROOT = Path(__file__).resolve().parent.parent


def _gen_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_docs"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


gen_docs = _gen_docs()
COMMANDS = list(gen_docs.iter_commands())


@pytest.mark.parametrize("doc", COMMANDS, ids=[d.name for d in COMMANDS])
def test_every_command_has_help_a_one_line_summary_and_an_example(doc: gen_docs.CommandDoc) -> None:
    command = doc.command
    assert (command.help or "").strip(), f"{doc.name} has no help text (give it a docstring)"
    summary = command.get_short_help_str(limit=70)
    assert summary and not summary.endswith("..."), (
        f"{doc.name}: the first sentence of its help must fit the command list (70 characters): "
        f"{(command.help or '').split(chr(10))[0]!r}"
    )
    examples = gen_docs.example_lines(command)
    assert any(line.startswith(doc.name) for line in examples), (
        f"{doc.name}: its help needs a \\b example block with a line starting {doc.name!r}"
    )
    assert doc.help.startswith(f"Usage: {doc.name}")


def test_every_top_level_command_sits_in_a_section_and_help_lists_it_there() -> None:
    ctx = click.Context(cli, info_name="warehouse", terminal_width=100, max_content_width=100)
    names = [n for n in cli.list_commands(ctx) if not cli.commands[n].hidden]
    unplaced = [n for n in names if cli.command_section.get(n) not in SECTIONS]
    assert not unplaced, f"register these with group.add_to_section(...): {unplaced}"
    text = cli.get_help(ctx)
    for name in names:
        title = SECTIONS[cli.command_section[name]]
        section = text.split(f"{title}:\n", 1)[1].split("\n\n", 1)[0]
        assert re.search(rf"^  {re.escape(name)}\s", section, re.MULTILINE), (name, title)
    expected_order = [t for t in SECTIONS.values() if t in text]
    assert expected_order == sorted(expected_order, key=text.index) == list(SECTIONS.values())


@pytest.mark.parametrize(
    ("name", "section"),
    [
        ("ingest", "load"),
        ("query", "look"),
        ("status", "look"),
        ("views", "look"),
        ("run", "launch"),
        ("sweep", "launch"),
        ("demo", "launch"),
        ("export", "keep"),
        ("report", "keep"),
        ("archive", "keep"),
    ],
)
def test_commands_land_where_a_user_looks_for_them(name: str, section: str) -> None:
    assert cli.command_section[name] == section


def test_every_view_file_starts_with_a_header_comment() -> None:
    files = [e for e in resources.files("sql").joinpath("views").iterdir() if e.name.endswith(".sql")]
    assert files
    for entry in files:
        comment = gen_docs.header_comment(entry.read_text(encoding="utf-8"))
        name = entry.name.removesuffix(".sql")
        assert re.match(rf"{name.rsplit('_v', 1)[0]} v\d+: \S", comment), (
            f"sql/views/{entry.name} must start with '-- {name.rsplit('_v', 1)[0]} v<N>: <description>'"
        )


def test_exit_codes_come_from_the_enum_with_their_meanings() -> None:
    from warehouse.core.errors import ExitCode

    table = gen_docs.exit_code_table()
    for code in ExitCode:
        assert re.search(rf"^\| {int(code)} \| `{code.name}` \| \w", table, re.MULTILINE), code


def test_check_fails_on_stale_docs_and_passes_once_regenerated(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    (tmp_path / "docs" / "cli.md").write_text("# stale\n", encoding="utf-8")
    runner = CliRunner()
    stale = runner.invoke(gen_docs.main, ["--check", "--root", str(tmp_path)])
    assert stale.exit_code == 1
    assert "docs/cli.md" in stale.output and "docs/views.md" in stale.output and "make docs" in stale.output
    assert (tmp_path / "docs" / "cli.md").read_text(encoding="utf-8") == "# stale\n"  # --check writes nothing

    files = gen_docs.generated(tmp_path)
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    assert gen_docs.stale(files) == {}
    cli_md = files[tmp_path / "docs" / "cli.md"]
    assert "## warehouse lake ingest" in cli_md and "| 5 | `LOCKED` |" in cli_md
    views_md = files[tmp_path / "docs" / "views.md"]
    assert "View `model_ranking_v2` (latest as `model_ranking`)" in views_md
    assert "| `credited_low` | DOUBLE |" in views_md


# The outside design notes the code was written from. A user of the repository does not have them,
# so no tracked file may point at them: state the fact instead. (Spelled so this file is no hit.)
_OUTSIDE_NOTES = re.compile(r"\bLOG[F]ORMAT|\b(?:SCALE|PERF|RELIABILITY)-NOTE[S]\b|\bOPERATION[S]\b")


def _tracked_files() -> list[Path]:
    git = shutil.which("git")
    if git and (ROOT / ".git").exists():
        listed = subprocess.run([git, "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        return [ROOT / name for name in listed.decode().split("\0") if name]
    skip = {".git", ".venv", "node_modules", "__pycache__"}
    return [p for p in ROOT.rglob("*") if p.is_file() and not skip & set(p.relative_to(ROOT).parts)]


def test_no_tracked_file_cites_the_outside_design_notes() -> None:
    files = _tracked_files()
    assert len(files) > 50, f"found only {len(files)} files under {ROOT}"
    hits = []
    for path in files:
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if _OUTSIDE_NOTES.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not hits, "cites a document users do not have; state the fact instead:\n" + "\n".join(hits)
