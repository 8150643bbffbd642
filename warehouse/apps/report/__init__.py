"""`warehouse report`: INSIGHTS.md and a self-contained INSIGHTS.html with embedded plots.

Data come from the views (warehouse.apps.report.data); what may be stated is decided in
warehouse.apps.report.findings; figures are drawn in warehouse.apps.report.plots; the Jinja2 templates
under templates/ lay them out. Every output file is written atomically.
"""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from warehouse.apps.report import findings as fx
from warehouse.apps.report import plots, simq_section
from warehouse.apps.report.data import REPORT_DIALS, ReportData, load
from warehouse.apps.scope import Scope
from warehouse.core.atomic import atomic_write_bytes, atomic_write_text, sweep_tmp

__all__ = ["ReportResult", "build_report"]

DIAL_LABELS = {"fact_cards_budget": "cards budget", "self_consistency_n": "self-consistency n"}
TASK_TITLES = {"code": "Code tasks", "proof": "Proof tasks", "table_qa": "Table questions"}
TASK_UNITS = {"code": "share of tests passed", "proof": "share of proofs accepted", "table_qa": "accuracy"}


@dataclass
class ReportResult:
    markdown: Path
    html: Path
    images: list[Path] = field(default_factory=list)
    findings: list[fx.Finding] = field(default_factory=list)  # comparisons only
    seconds: float = 0.0

    @property
    def stated(self) -> list[fx.Finding]:
        return [f for f in self.findings if f.stated]

    @property
    def inconclusive(self) -> list[fx.Finding]:
        return [f for f in self.findings if not f.stated]


def _images(data: ReportData) -> dict[str, bytes]:
    order = [r["model"] for r in data.ranking]  # colours follow the ranking in every figure
    images = {
        "ranking": plots.ranking_png(data.ranking),
        "witness_vs_credited": plots.witness_png(data.run_points, order),
    }
    for dial in REPORT_DIALS:
        images[f"credited_by_{dial}"] = plots.dial_png(data.dials, dial, DIAL_LABELS[dial], order)
    images["pareto_tokens"] = plots.pareto_png(
        data.pareto, "tokens_per_step", "on_token_frontier", "student tokens per step", order
    )
    images["pareto_seconds"] = plots.pareto_png(
        data.pareto, "seconds_per_step", "on_time_frontier", "seconds per step", order
    )
    return images


def _findings(data: ReportData) -> dict[str, list[fx.Finding]]:
    other = tuple(sorted({d["dial"] for d in data.dials} - set(REPORT_DIALS)))
    return {
        "ranking": fx.ranking_findings(data.ranking),
        "witness": fx.witness_findings(data.witness),
        **{dial: fx.dial_findings(data.dials, (dial,)) for dial in REPORT_DIALS},
        "other_dials": fx.dial_findings(data.dials, other) if other else [],
        "settings": fx.setting_findings(data.settings),
    }


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("warehouse.apps.report", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        pct=fx.pct,
        pp=fx.pp,
        num=fx.num,
        interval=fx.interval,
        short=_short,
        cell=lambda s: str(s).replace("|", "\\|"),
    )
    return env


def _short(text: Any, width: int = 60) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def _context(data: ReportData, found: dict[str, list[fx.Finding]], images: dict[str, str]) -> dict[str, Any]:
    comparisons = [f for key, group in found.items() if key != "settings" for f in group]
    summary = fx.witness_summary(found["witness"])
    top = [f for f in comparisons if f.stated and (f.topic != "witness" or summary is None)]
    return {
        "d": data,
        "found": found,
        "images": images,
        "dial_labels": DIAL_LABELS,
        "task_titles": TASK_TITLES,
        "task_units": TASK_UNITS,
        "stated": top + ([summary] if summary else []),
        "inconclusive": [f for f in comparisons if not f.stated],
        "frontier": [p for p in data.pareto if p.get("on_token_frontier") or p.get("on_time_frontier")],
    }


def build_report(db: str | os.PathLike[str], out_dir: Path, scope: Scope | None = None) -> ReportResult:
    """Write INSIGHTS.md, INSIGHTS.html and the PNGs into out_dir; return what was found."""
    start = time.perf_counter()
    data = load(db, scope)
    found = _findings(data)
    images = _images(data)
    simq, simq_images = simq_section.build(db, [r["model"] for r in data.ranking])
    images.update(simq_images)
    out_dir.mkdir(parents=True, exist_ok=True)
    sweep_tmp(out_dir)
    written = []
    for name, png in images.items():
        atomic_write_bytes(out_dir / f"{name}.png", png)
        written.append(out_dir / f"{name}.png")
    env = _environment()
    paths = {k: f"{k}.png" for k in images}
    md = env.get_template("insights.md.j2").render(**_context(data, found, paths), simq=simq)
    uris = {k: "data:image/png;base64," + base64.b64encode(v).decode() for k, v in images.items()}
    html = env.get_template("insights.html.j2").render(**_context(data, found, uris), simq=simq)
    atomic_write_text(out_dir / "INSIGHTS.md", md)
    atomic_write_text(out_dir / "INSIGHTS.html", html)
    result = ReportResult(
        out_dir / "INSIGHTS.md",
        out_dir / "INSIGHTS.html",
        written,
        [f for key, group in found.items() if key != "settings" for f in group],
    )
    result.seconds = time.perf_counter() - start
    return result
