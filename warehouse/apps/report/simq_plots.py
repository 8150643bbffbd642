"""Figures of the simulator sections. Each returns None when the data cannot support the plot, so
the report leaves it out instead of drawing an empty panel."""

from __future__ import annotations

from warehouse.apps.report.plots import Row, _colors, _figure, _png, _short, _top_models
from warehouse.apps.simq.token_curve import Curve

MIN_CURVE_POINTS = 3  # positions with >= 2 runs a learning curve needs to be drawn


def learning_png(curves: list[Row], order: list[str]) -> bytes | None:
    """Mean cumulative credited by step position, per model, with the 95% t band over runs."""
    usable = [c for c in curves if c["n_runs"] >= 2 and c["cum_credited_low"] is not None]
    models = [
        m for m in _top_models(usable, order) if sum(c["model"] == m for c in usable) >= MIN_CURVE_POINTS
    ]
    if not models:
        return None
    colors = _colors(models, order)
    fig, ax = _figure(7.0, 4.4)
    for model in models:
        sel = [c for c in usable if c["model"] == model]
        xs = [c["position"] for c in sel]
        ax.plot(xs, [c["cum_credited_mean"] for c in sel], color=colors[model], label=_short(model, 28))
        ax.fill_between(
            xs,
            [c["cum_credited_low"] for c in sel],
            [c["cum_credited_high"] for c in sel],
            color=colors[model],
            alpha=0.15,
        )
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("step of the run (positions reached by 2+ runs)")
    ax.set_ylabel("cumulative credited (mean over runs)")
    ax.set_title("Learning curves: cumulative credited by step, 95% band over runs")
    ax.legend(fontsize=7)
    return _png(fig)


def reasons_png(reasons: list[Row], order: list[str]) -> bytes | None:
    """Share of non-credited steps logging each reason, per model (top reasons only)."""
    rows = [r for r in reasons if r["share"] is not None and r["noncredited_n"]]
    if not rows:
        return None
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["reason"]] = totals.get(r["reason"], 0) + int(r["reason_n"])
    top = sorted(totals, key=lambda k: -totals[k])[:6]
    models = _top_models(rows, order)
    colors = _colors(models, order)
    fig, ax = _figure(7.0, 0.5 * len(top) * max(1, len(models)) ** 0.5 + 1.6)
    width = 0.8 / len(models)
    for k, model in enumerate(models):
        by = {r["reason"]: r for r in rows if r["model"] == model}
        ys = [i + (k - (len(models) - 1) / 2) * width for i in range(len(top))]
        vals = [by[t]["share"] if t in by else 0.0 for t in top]
        ax.barh(ys, vals, height=width, color=colors[model], label=_short(model, 28))
    ax.set_yticks(range(len(top)))
    ax.set_yticklabels(top)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of non-credited steps logging the reason")
    ax.set_title("Why credit is lost")
    ax.legend(fontsize=7)
    return _png(fig)


def token_png(curves: list[Curve], order: list[str]) -> bytes | None:
    """Fitted credited vs tokens per step per model, 95% band, the optimum marked."""
    fitted = [c for c in curves if c.status == "fitted" and c.domain == "*" and c.points]
    if not fitted:
        return None
    rows = [{"model": c.model} for c in fitted]
    models = _top_models(rows, order)
    colors = _colors(models, order)
    fig, ax = _figure(7.0, 4.4)
    for c in fitted:
        if c.model not in colors:
            continue
        xs = [p[0] for p in c.points]
        ax.plot(xs, [p[1] for p in c.points], color=colors[c.model], label=_short(c.model, 28))
        ax.fill_between(
            xs, [p[2] for p in c.points], [p[3] for p in c.points], color=colors[c.model], alpha=0.15
        )
        if c.opt_tokens is not None and c.opt_credited is not None:
            ax.plot([c.opt_tokens], [c.opt_credited], "o", color=colors[c.model])
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("student tokens per step (log scale)")
    ax.set_ylabel("fitted credited (95% band)")
    ax.set_title("Credited vs tokens per step (quasi-binomial fit over runs)")
    ax.legend(fontsize=7)
    return _png(fig)
