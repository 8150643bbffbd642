"""Which sentences the report may state, and which it must label inconclusive.

Rule: a comparison is stated as a finding only when its 95% interval excludes no-effect (0 for a
difference) and, where the view computes one, its test agrees (p < 0.05, or Benjamini-Hochberg
q < 0.05 for dial effects, which are many comparisons). Everything else is printed as
"inconclusive" with its n, never as a trend.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]
ALPHA = 0.05


@dataclass(frozen=True)
class Finding:
    topic: str
    text: str
    stated: bool
    n: int
    estimate: float | None = None
    low: float | None = None
    high: float | None = None

    @property
    def label(self) -> str:
        return "finding" if self.stated else "inconclusive"


def missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def pct(x: float | None, digits: int = 1) -> str:
    return "–" if x is None or missing(x) else f"{100 * x:.{digits}f}%"


def pp(x: float | None) -> str:
    return "–" if x is None or missing(x) else f"{100 * x:+.1f} pp"


def num(x: float | None, spec: str = ".0f") -> str:
    return "–" if x is None or missing(x) else format(x, spec)


def pval(p: float | None) -> str:
    if p is None:
        return "–"
    return "< 0.0001" if p < 1e-4 else f"= {p:.2g}"


def interval(low: float | None, high: float | None, unit: str = "pp") -> str:
    if low is None or high is None or missing(low) or missing(high):
        return "[–]"
    if unit == "pp":
        return f"[{100 * low:+.1f}, {100 * high:+.1f}] pp"
    return f"[{pct(low)}, {pct(high)}]"


def excludes_zero(low: float | None, high: float | None) -> bool:
    if low is None or high is None or missing(low) or missing(high):
        return False
    return low > 0 or high < 0


def newcombe(p1: float, l1: float, u1: float, p2: float, l2: float, u2: float) -> tuple[float, float]:
    """95% interval of p1 - p2 from the two Wilson intervals (Newcombe's hybrid score method)."""
    d = p1 - p2
    return (d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def _more_data(n_needed: Any, mde: Any, unit: str) -> str:
    """The power clause of an inconclusive comparison."""
    parts = []
    if not missing(mde):
        parts.append(f"detectable with this n: {pp(mde)}")
    if n_needed is not None and not missing(n_needed):
        parts.append(f"about {int(n_needed)} {unit} would settle it if the estimate holds")
    return f"; {', '.join(parts)}" if parts else ""


def ranking_findings(ranking: list[Row]) -> list[Finding]:
    """Each model against the one ranked just above it (same task type and tau), clustered test."""
    out = []
    for above, row in itertools.pairwise(ranking):
        if (above.get("task_type"), above.get("tau")) != (row.get("task_type"), row.get("tau")):
            continue
        if row.get("diff_vs_above") is None:
            continue
        diff = -row["diff_vs_above"]
        low, high = -row["diff_above_high"], -row["diff_above_low"]
        p = row.get("p_vs_above")
        n = int(above["n_steps"]) + int(row["n_steps"])
        stated = excludes_zero(low, high) and p is not None and p < ALPHA
        if stated:
            text = (
                f"{above['model']} is credited more often than {row['model']}: "
                f"{pct(above['credited'])} vs {pct(row['credited'])}, difference {pp(diff)} "
                f"{interval(low, high)}, p {pval(p)} (n = {n} steps; clustered by run and item)."
            )
        else:
            text = (
                f"{above['model']} vs {row['model']}: not separable — difference {pp(diff)} "
                f"{interval(low, high)} (n = {n} steps)"
                + _more_data(row.get("n_needed_vs_above"), row.get("mde_vs_above"), "steps per model")
                + "."
            )
        out.append(Finding("ranking", text, stated, n, diff, low, high))
    return out


def witness_findings(witness: list[Row]) -> list[Finding]:
    out = []
    for w in witness:
        n = int(w.get("n_steps") or 0)
        if w.get("lift") is None:
            out.append(
                Finding(
                    "witness",
                    f"{w['model']}: witness→credited lift not estimable "
                    f"(all steps on one side; n = {n} steps).",
                    False,
                    n,
                )
            )
            continue
        low, high = w["lift_low"], w["lift_high"]
        stated = excludes_zero(low, high)
        verb = (
            "steps that pass witness are credited {} more often"
            if stated
            else "witness→credited lift {} is inconclusive"
        )
        out.append(
            Finding(
                "witness",
                f"{w['model']}: "
                + verb.format(f"{pp(w['lift'])} {interval(low, high)}")
                + f" ({pct(w['credited_if_witness'])} with vs {pct(w['credited_if_no_witness'])} "
                f"without; n = {n} steps).",
                stated,
                n,
                w["lift"],
                low,
                high,
            )
        )
    return out


def dial_findings(dials: list[Row], only: tuple[str, ...] | None = None) -> list[Finding]:
    """Non-reference dial values against the model's reference value, within matched groups."""
    out = []
    for d in dials:
        if d.get("is_ref") or (only and d["dial"] not in only):
            continue
        n = int(d.get("matched_steps") or d.get("n_steps") or 0)
        head = f"{d['model']}: {d['dial']} = {d['value']} vs {d['ref_value']}"
        if d.get("diff_vs_ref") is None:
            out.append(
                Finding(
                    "dial",
                    f"{head}: not estimable — no group where only this dial "
                    f"differs (n = {d.get('n_steps')} steps).",
                    False,
                    0,
                )
            )
            continue
        low, high, q = d["diff_low"], d["diff_high"], d.get("q_value")
        stated = excludes_zero(low, high) and bool(d.get("significant"))
        cost = ""
        if d.get("tokens_diff") is not None:
            cost = f", tokens/step {d['tokens_diff']:+.0f}"
        q_text = f", q {pval(q)}" if q is not None else ""
        text = (
            f"{head}: credited {pp(d['diff_vs_ref'])} {interval(low, high)}{q_text}{cost} "
            f"(n = {n} matched steps in {d.get('groups')} group(s)"
            + ("" if stated else _more_data(d.get("runs_needed"), d.get("mde"), "runs of this value"))
            + ")."
        )
        out.append(Finding("dial", text, stated, n, d["diff_vs_ref"], low, high))
    return out


def setting_findings(settings: list[Row]) -> list[Finding]:
    """The recommended setting is stated as proven within the margin of the best, or 'more data needed'."""
    out = []
    by_model: dict[tuple[str, Any, Any], dict[str, Row]] = {}
    for s in settings:
        slot = by_model.setdefault((s["model"], s.get("task_type"), s.get("tau")), {})
        if s.get("is_best"):
            slot["best"] = s
        if s.get("is_recommended"):
            slot["rec"] = s
    for (model, _task, _tau), slot in sorted(by_model.items(), key=lambda kv: str(kv[0])):
        best, rec = slot.get("best"), slot.get("rec")
        if best is None:
            continue
        n = int(best.get("n_steps") or 0)
        text = (
            f"{model}: best setting `{best['setting']}` credited {pct(best['credited'])} "
            f"{interval(best['credited_low'], best['credited_high'], 'rate')} (n = {n} steps"
            f"{', below the minimum n' if best.get('below_min_n') else ''})."
        )
        if rec is not None and rec.get("more_data_needed"):
            need = best.get("n_needed")
            text += (
                f" No setting is yet proven within {pp(best.get('margin'))} of the best"
                f" ({best.get('best_set_size')} could be best): more data needed"
                + (f", about {int(need)} steps of this setting would decide." if need else ".")
            )
        elif rec is not None and rec["setting"] != best["setting"]:
            text += (
                f" Recommended: `{rec['setting']}` — cheaper ({num(rec['tokens_per_step'])} vs "
                f"{num(best['tokens_per_step'])} tokens/step) and proven within "
                f"{pp(rec.get('margin'))} of the best (setting − best of the others "
                f"{interval(rec.get('diff_low'), rec.get('diff_high'))}, simultaneous 95%)."
            )
        out.append(Finding("settings", text, not best.get("below_min_n"), n))
    return out


def witness_summary(found: list[Finding]) -> Finding | None:
    """One line for the top of the report instead of one per model."""
    estimable = [f for f in found if f.estimate is not None]
    stated = [f for f in estimable if f.stated]
    if not stated:
        return None
    lows = [f.low for f in stated if f.low is not None]
    n = sum(f.n for f in estimable)
    text = (
        f"Witness → credited: in {len(stated)} of {len(estimable)} models, steps that pass "
        f"witness are credited more often, each interval excluding 0 (smallest lower bound "
        f"{pp(min(lows)) if lows else '–'}; n = {n} steps). See the witness section."
    )
    return Finding("witness", text, True, n)
