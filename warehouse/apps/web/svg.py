"""Inline SVG drawn on the server: a run's learning curve and interval bars (no JavaScript)."""

from __future__ import annotations

from markupsafe import Markup, escape

W, H, PAD = 640, 220, 36


def learning_curve(points: list[tuple[int, float, float]]) -> Markup:
    """Cumulative credited (solid) and correct (dashed) rate after each step, 0..1 on the y axis."""
    if not points:
        return Markup('<p class="muted">no steps logged</p>')
    n = len(points)

    def x(i: int) -> float:
        return PAD + (W - 2 * PAD) * (i / max(n - 1, 1))

    def y(v: float) -> float:
        return H - PAD - (H - 2 * PAD) * v

    credited = " ".join(f"{x(i):.1f},{y(p[1]):.1f}" for i, p in enumerate(points))
    correct = " ".join(f"{x(i):.1f},{y(p[2]):.1f}" for i, p in enumerate(points))
    grid = "".join(
        f'<line x1="{PAD}" y1="{y(v):.1f}" x2="{W - PAD}" y2="{y(v):.1f}" class="grid"/>'
        f'<text x="{PAD - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.0%}</text>'
        for v in (0.0, 0.25, 0.5, 0.75, 1.0)
    )
    first, last = points[0][0], points[-1][0]
    return Markup(
        f'<svg class="curve" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" '
        f'aria-label="learning curve: cumulative credited and correct rate by step">{grid}'
        f'<polyline points="{credited}" class="credited"/>'
        f'<polyline points="{correct}" class="correct"/>'
        f'<text x="{PAD}" y="{H - 10}">step {escape(first)}</text>'
        f'<text x="{W - PAD}" y="{H - 10}" text-anchor="end">step {escape(last)}</text>'
        f'<text x="{W - PAD}" y="{PAD - 12}" text-anchor="end">'
        f'<tspan class="credited-key">— credited</tspan> <tspan class="correct-key">- - correct</tspan>'
        f"</text></svg>"
    )


def interval_bar(value: float | None, low: float | None, high: float | None, width: int = 160) -> Markup:
    """A 0..1 scale with the interval as a bar and the estimate as a tick."""
    if value is None or low is None or high is None:
        return Markup("")

    def px(v: float) -> float:
        return 2 + (width - 4) * min(max(v, 0.0), 1.0)

    return Markup(
        f'<svg class="bar" width="{width}" height="14" viewBox="0 0 {width} 14" role="img" '
        f'aria-label="{value:.3f} ({low:.3f} to {high:.3f})">'
        f'<line x1="2" y1="7" x2="{width - 2}" y2="7" class="axis"/>'
        f'<rect x="{px(low):.1f}" y="3" width="{max(px(high) - px(low), 1):.1f}" height="8" class="ci"/>'
        f'<line x1="{px(value):.1f}" y1="0" x2="{px(value):.1f}" y2="14" class="est"/></svg>'
    )
