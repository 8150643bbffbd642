"""The report's figures as PNG bytes (matplotlib's Agg canvas; no pyplot, no display needed)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

Row = dict[str, Any]
PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
)
MAX_MODELS = 8  # per-model series in one figure; the rest are grouped as "other"


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(width, height))
    ax = fig.add_subplot(1, 1, 1)
    ax.grid(True, alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def _colors(models: Iterable[str], order: list[str]) -> dict[str, str]:
    """One colour per model, the same in every figure (its position in `order`, the ranking)."""
    rank = {m: i for i, m in enumerate(order)}
    return {m: PALETTE[rank.get(m, len(PALETTE) - 1) % len(PALETTE)] for m in models}


def _top_models(rows: list[Row], order: list[str]) -> list[str]:
    """The models present in rows, best-ranked first, at most MAX_MODELS."""
    present = {r["model"] for r in rows}
    ranked = [m for m in order if m in present]
    return (ranked + sorted(present - set(ranked)))[:MAX_MODELS]


def _short(name: str, width: int = 34) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1) :]


def ranking_png(ranking: list[Row]) -> bytes:
    """Credited per model with 95% intervals; shaded bands = tie groups (not separable)."""
    shown = [r for r in ranking if r.get("credited") is not None]
    colors = _colors([r["model"] for r in shown], [r["model"] for r in ranking])
    fig, ax = _figure(7.5, 0.42 * max(len(shown), 2) + 1.3)
    ax.grid(False, axis="y")
    for i, r in enumerate(shown):
        if i == 0 or r["tie_group"] != shown[i - 1]["tie_group"]:
            size = sum(1 for x in shown if x["tie_group"] == r["tie_group"])
            ax.axhspan(
                i - 0.5, i + size - 0.5, color="#f0f0f0" if int(r["tie_group"]) % 2 else "#ffffff", zorder=0
            )
            ax.annotate(
                f"tie group {r['tie_group']}",
                (1.07, i - 0.45),
                fontsize=7,
                color="#777",
                ha="right",
                va="top",
            )
        low, high = r["credited_low"], r["credited_high"]
        ax.errorbar(
            [r["credited"]],
            [i],
            xerr=[[r["credited"] - low], [high - r["credited"]]],
            fmt="o",
            color=colors[r["model"]],
            capsize=4,
            ms=7,
            zorder=3,
        )
        ax.annotate(
            f"n={r['n_steps']}",
            (high, i),
            xytext=(6, -3),
            textcoords="offset points",
            fontsize=8,
            color="#555",
        )
    ax.set_yticks(range(len(shown)))
    ax.set_yticklabels([f"#{r['rank']} {_short(r['model'])}" for r in shown])
    ax.set_ylim(len(shown) - 0.5, -0.5)
    ax.set_xlim(0, 1.08)
    ax.set_xlabel("credited rate with 95% Wilson interval; shaded bands = tie groups")
    ax.set_title("Model ranking by credited")
    return _png(fig)


def witness_png(points: list[Row], order: list[str]) -> bytes:
    """Per run: witness rate vs credited rate, one colour per model."""
    fig, ax = _figure(6.5, 5.0)
    models = _top_models(points, order)
    colors = _colors(models, order)
    for model in [*models, None]:
        sel = [p for p in points if (p["model"] == model if model else p["model"] not in colors)]
        if not sel:
            continue
        ax.scatter(
            [p["witness_final"] for p in sel],
            [p["credited_final"] for p in sel],
            s=18,
            alpha=0.6,
            color=colors.get(model or "", "#bbbbbb"),
            label=_short(model or "other", 28),
        )
    ax.plot([0, 1], [0, 1], ls="--", color="#999", lw=1)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("witness pass rate (per run)")
    ax.set_ylabel("credited rate (per run)")
    ax.set_title("Witness vs credited, per run")
    if points:
        ax.legend(fontsize=7, loc="upper left")
    return _png(fig)


def _as_number(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def dial_png(dials: list[Row], dial: str, label: str, order: list[str]) -> bytes:
    """Credited by the values of one dial, per model, with 95% intervals."""
    rows = [d for d in dials if d["dial"] == dial and d.get("credited") is not None]
    fig, ax = _figure(6.5, 4.2)
    models = _top_models(rows, order)
    values = sorted({d["value"] for d in rows}, key=lambda v: (_as_number(v) is None, _as_number(v) or 0, v))
    xpos = {v: i for i, v in enumerate(values)}
    colors = _colors(models, order)
    for k, model in enumerate(models):
        sel = sorted((d for d in rows if d["model"] == model), key=lambda d: xpos[d["value"]])
        offset = (k - (len(models) - 1) / 2) * 0.06
        xs = [xpos[d["value"]] + offset for d in sel]
        ys = [d["credited"] for d in sel]
        err = [
            [d["credited"] - d["credited_low"] for d in sel],
            [d["credited_high"] - d["credited"] for d in sel],
        ]
        ax.errorbar(xs, ys, yerr=err, fmt="-o", capsize=3, color=colors[model], label=_short(model, 28))
    ax.set_xticks(range(len(values)))
    ax.set_xticklabels(values)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(label)
    ax.set_ylabel("credited rate (95% interval)")
    ax.set_title(f"Credited by {label}, per model")
    if models:
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "no model ran more than one value", ha="center", transform=ax.transAxes)
    return _png(fig)


def pareto_png(pareto: list[Row], x: str, frontier: str, label: str, order: list[str]) -> bytes:
    """Settings as points (credited vs cost); the global frontier joined by a line."""
    rows = [p for p in pareto if p.get(x) is not None and p.get("credited") is not None]
    fig, ax = _figure(6.5, 4.5)
    models = _top_models(rows, order)
    colors = _colors(models, order)
    groups: dict[tuple[str, bool, bool], list[Row]] = {}
    for p in rows:  # one scatter call per (colour, on frontier, faded): fast with many settings
        key = (colors.get(p["model"], "#bbbbbb"), bool(p.get(frontier)), bool(p.get("below_min_n")))
        groups.setdefault(key, []).append(p)
    for (color, on_front, faded), sel in groups.items():
        ax.scatter(
            [p[x] for p in sel],
            [p["credited"] for p in sel],
            s=40,
            color=color,
            edgecolors="black" if on_front else "none",
            linewidths=1.2,
            alpha=0.45 if faded else 0.9,
        )
    front = sorted((p for p in rows if p.get(frontier)), key=lambda p: p[x])
    if front:
        ax.plot(
            [p[x] for p in front],
            [p["credited"] for p in front],
            color="black",
            lw=1,
            drawstyle="steps-post",
            label="Pareto frontier",
        )
    for model in models:
        ax.scatter([], [], color=colors[model], label=_short(model, 28))
    if rows and not any(p[x] for p in rows):
        ax.text(0.5, 0.5, f"no {label} logged (all zero)", ha="center", transform=ax.transAxes, color="#777")
    ax.set_xlabel(label)
    ax.set_ylabel("credited rate")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"Credited vs {label} (settings; faded = below minimum n)")
    if rows:
        ax.legend(fontsize=7, loc="lower right")
    return _png(fig)
