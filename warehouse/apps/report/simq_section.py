"""Glue for the simulator sections: data, findings and figures in one context for the templates
simq.md.j2 / simq.html.j2 (included by the insights templates)."""

from __future__ import annotations

import os
from typing import Any

from warehouse.apps.report import simq_findings as sf
from warehouse.apps.report import simq_plots as sp
from warehouse.apps.report.data import Row
from warehouse.apps.report.simq_data import SimqData, load_simq

TOP_REASONS = 3


def reasons_by_model(reasons: list[Row], order: list[str]) -> list[Row]:
    """One row per model (ranking order): its top reasons and its alert / gap columns."""
    by: dict[str, list[Row]] = {}
    for r in reasons:
        by.setdefault(str(r["model"]), []).append(r)
    rank = {m: i for i, m in enumerate(order)}
    out = []
    for model in sorted(by, key=lambda m: (rank.get(m, len(rank)), m)):
        rows = by[model]
        first = rows[0]
        top = [r for r in rows if r["share"] is not None and r["reason_n"]][:TOP_REASONS]
        out.append({**first, "model": model, "top": top})
    return out


def build(db: str | os.PathLike[str], order: list[str]) -> tuple[dict[str, Any], dict[str, bytes]]:
    data: SimqData = load_simq(db)
    rank = {m: i for i, m in enumerate(order)}
    learning = sorted(data.learning, key=lambda r: (rank.get(r["model"], len(rank)), r["model"]))
    images: dict[str, bytes] = {}
    for name, png in (
        ("learning_curves", sp.learning_png(data.curves, order)),
        ("failure_reasons", sp.reasons_png(data.reasons, order)),
        ("token_curve", sp.token_png(data.token_curves, order)),
    ):
        if png is not None:
            images[name] = png
    context = {
        "learning": learning,
        "reasons": reasons_by_model(data.reasons, order),
        "tokens": [c for c in data.token_curves if c.status == "fitted"],
        "tokens_unfitted": [c for c in data.token_curves if c.status != "fitted" and c.domain == "*"],
        "token_note": data.token_note,
        "top_configs": data.top_configs,
        "correlations": [c for c in data.correlations if c["r"] is not None],
        "rag": data.rag,
        "found": {
            "learning": sf.learning_findings(data),
            "failures": sf.failure_findings(data),
            "tokens": sf.token_findings(data),
            "correlation": sf.correlation_findings(data),
        },
        "has": set(images),
    }
    return context, images
