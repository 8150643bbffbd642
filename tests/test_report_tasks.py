"""The report's task-type, SAQ and alias-swap sections on tests/fixtures/tasks (values by hand),
and their absence on a database with MCQ runs only."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ingest import ingest_runs
from warehouse.apps.report import build_report

FIXTURES = Path(__file__).parent / "fixtures" / "tasks"


def _section(md: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", md, re.S | re.M)
    assert match, title
    return match.group(1)


def _row(section: str, first: str) -> list[str]:
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells and cells[0] == first:
            return cells
    raise AssertionError(f"no row {first!r} in {section}")


@pytest.fixture(scope="module")
def md(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("tasks_report")
    shutil.copytree(FIXTURES, root / "runs")
    db = root / "runs.duckdb"
    ingest_runs(str(root / "runs"), str(db))
    result = build_report(db, root / "plots")
    html = result.html.read_text()
    assert "<h2>Alias swap</h2>" in html and "<h2>Short answers (SAQ)</h2>" in html
    return result.markdown.read_text()


def test_a_score_per_task_type(md: str) -> None:
    tasks = _section(md, "Task types")
    # saq: .86, .5, 1.0 (gpt-4.1) and .4 (gpt-4o-mini); code: 2/2, 1/2, error -> 0; proof, table_qa: 1 of 2
    assert _row(tasks, "saq")[1:4] == ["2", "4", "4"] and _row(tasks, "saq")[4].startswith("69.0% [")
    assert _row(tasks, "code")[4].startswith("50.0% [")
    assert _row(tasks, "proof")[4].startswith("50.0% [") and _row(tasks, "table_qa")[4].startswith("50.0% [")
    # alias_swap runs are their own row: A1 6/8, A2 1/2 (torn third step not counted), A3 3/4
    assert _row(tasks, "alias_swap")[1:4] == ["3", "14", "14"] and _row(tasks, "alias_swap")[4].startswith(
        "71.4% ["
    )
    assert _row(tasks, "mcq")[1:3] == ["1", "2"]
    assert "1 run(s), 3 steps" in _section(md, "Code tasks")
    assert "1 run(s), 2 steps" in _section(md, "Proof tasks") and "Table questions" in md


def test_alias_section_phase_a_vs_b(md: str) -> None:
    alias = _section(md, "Alias swap")
    # gpt-4.1: A = fam-x [T, T] + fam-y [T, F] + A2 [F] = 3/5; B = [T, F] + [T, T] + [T] = 4/5;
    # credited B = 1 + 1 + 1 of 5
    row = _row(alias, "gpt-4.1")
    assert row[1:3] == ["2", "2"]
    assert (
        row[3].startswith("60.0% [") and row[4].startswith("80.0% [") and row[6].startswith("3/5 = 60.0% [")
    )
    # mean delta over run x family: (.5 - .5 - 1) / 3
    assert row[5] == "-33.3 pp"
    mini = _row(alias, "gpt-4o-mini")
    assert mini[6].startswith("1/2 = 50.0% [9.5%, 90.5%]")


def test_saq_section_drafts_and_points(md: str) -> None:
    saq = _section(md, "Short answers (SAQ)")
    row = _row(saq, "gpt-4.1")
    assert row[3:7] == ["3", "2.0", "43.3%", "78.7%"] and row[7].startswith("+35.3 pp [")
    assert "| gpt-4.1 | misconception | overgeneral | 1 | 3 |" in saq
    assert "| gpt-4.1 | point | neighbour | 1 | 3 | 33.3% [" in saq


def test_no_task_sections_without_such_runs(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(FIXTURES / "compare" / "openai_gpt-4.1", runs)
    text = (runs / "mixed.jsonl").read_text().splitlines(keepends=True)
    header = next(i for i, line in enumerate(text) if '"task": "mcq", "num_steps"' in line)
    (runs / "mixed.jsonl").write_text("".join(text[header : header + 3]))
    db = tmp_path / "runs.duckdb"
    ingest_runs(str(runs), str(db))
    md = build_report(db, tmp_path / "plots").markdown.read_text()
    assert "## Alias swap" not in md and "## Short answers (SAQ)" not in md and "## Code tasks" not in md
    assert _row(_section(md, "Task types"), "mcq")[1:3] == ["1", "2"]
