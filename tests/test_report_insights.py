"""The insights report on a corpus with known truth: the strong effect is stated, the null one is
labelled inconclusive with its n; plots embedded; data health counted; renders in Chromium."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from archive_support import empty_db, ingest
from report_support import write_corpus

from warehouse.apps.report import ReportResult, build_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, ReportResult]]:
    root = tmp_path_factory.mktemp("report")
    write_corpus(root / "runs")
    db = root / "runs" / "runs.duckdb"
    empty_db(db)
    ingest(root / "runs", db)
    yield db, build_report(db, root / "runs" / "_aggregated" / "plots")


def _section(md: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", md, re.S | re.M)
    assert match, title
    return match.group(1)


def test_strong_effect_stated_null_effect_inconclusive(built: tuple[Path, ReportResult]) -> None:
    _db, result = built
    by_text = {f.text.split(":")[0] + ":" + f.text.split(":")[1]: f for f in result.findings}
    strong = by_text["model-a: self_consistency_n = 3 vs 1"]
    null = by_text["model-a: fact_cards_budget = 12 vs 6"]
    assert strong.stated and strong.low is not None and strong.low > 0
    assert strong.estimate is not None and 0.2 < strong.estimate < 0.6  # truth: +0.45
    assert not null.stated and null.label == "inconclusive"
    assert null.low is not None and null.high is not None and null.low < 0 < null.high
    assert "n = 120" in null.text
    # model-b has no dial effect at all: nothing about its dials may be stated
    assert not [f for f in result.findings if f.topic == "dial" and f.text.startswith("model-b") and f.stated]
    md = result.markdown.read_text()
    findings, inconclusive = _section(md, "Findings"), _section(md, "Inconclusive")
    assert "model-a: self_consistency_n = 3 vs 1" in findings
    assert "fact_cards_budget" not in findings
    assert "model-a: fact_cards_budget = 12 vs 6" in inconclusive and "n = 120" in inconclusive


def test_ranking_and_witness(built: tuple[Path, ReportResult]) -> None:
    _db, result = built
    ranking = [f for f in result.findings if f.topic == "ranking"]
    assert ranking[0].stated and ranking[0].text.startswith("model-a is credited more often than model-b")
    md = result.markdown.read_text()
    table = _section(md, "Model ranking")
    assert table.index("| 1 | 1 | model-a |") < table.index("| 2 | 2 | model-b |")
    witness = {f.text.split(":")[0]: f for f in result.findings if f.topic == "witness"}
    assert witness["model-a"].stated and witness["model-b"].stated
    assert "unknown" not in witness and None not in witness  # unattributed runs are never a model


def test_data_health(built: tuple[Path, ReportResult]) -> None:
    _db, result = built
    health = _section(result.markdown.read_text(), "Data health")
    assert "Quarantined lines (kept byte for byte, not in any rate): **1**" in health
    assert "Runs not complete: **1**" in health and "incomplete.jsonl" in health
    assert "Runs without a model (no header value, no path rule): **1**" in health
    assert "`misc/mystery.jsonl`" in health
    assert "`shiny_new_key` in step lines (4)" in health


def test_outputs_are_self_contained(built: tuple[Path, ReportResult]) -> None:
    _db, result = built
    assert {p.name for p in result.images} == {
        "ranking.png",
        "witness_vs_credited.png",
        "credited_by_fact_cards_budget.png",
        "credited_by_self_consistency_n.png",
        "pareto_tokens.png",
        "pareto_seconds.png",
        # the simulator sections (tests/test_report_simq.py): this corpus supports all three
        "learning_curves.png",
        "failure_reasons.png",
        "token_curve.png",
    }
    for png in result.images:
        assert png.read_bytes().startswith(PNG_MAGIC)
        assert f"]({png.name})" in result.markdown.read_text()
    html = result.html.read_text()
    sources = re.findall(r'<img[^>]+src="([^"]+)"', html)
    assert len(sources) == len(result.images)
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG_MAGIC)
    assert not re.search(r'(src|href)="(https?:|//|file:)', html)  # nothing fetched from outside
    assert not [p for p in result.html.parent.iterdir() if p.name.startswith(".")]


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed")
def test_renders_in_headless_chromium(built: tuple[Path, ReportResult], tmp_path: Path) -> None:
    _db, result = built
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--hide-scrollbars",
            "--window-size=1200,1600",
            f"--screenshot={shot}",
            result.html.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    data = shot.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 50_000  # a page, not a blank canvas


def test_cli_report_json(
    built: tuple[Path, ReportResult], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from warehouse.cli import main

    db, _result = built
    main(["report", "--db", str(db), "--out-dir", str(tmp_path), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert Path(out["html"]).is_file() and Path(out["markdown"]).is_file()

    def label(prefix: str) -> str:
        (found,) = [f["label"] for f in out["findings"] if f["text"].startswith(prefix)]
        return str(found)

    assert label("model-a: self_consistency_n = 3 vs 1:") == "finding"
    assert label("model-a: fact_cards_budget = 12 vs 6:") == "inconclusive"
