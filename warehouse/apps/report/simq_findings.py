"""What the simulator sections may state. Same rule as findings.py: a sentence is a finding only
when its 95% interval excludes no-effect; the rest are counted in one summary line per topic (never
one bullet per model), so the report stays short at 20+ models. Nothing tautological is stated
(credit requires a passing witness, so no sentence relates witness to credit)."""

from __future__ import annotations

from warehouse.apps.report.findings import Finding, excludes_zero, interval, pct, pp
from warehouse.apps.report.simq_data import SimqData


def _summary(topic: str, what: str, names: list[str]) -> list[Finding]:
    if not names:
        return []
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return [
        Finding(topic, f"{what}: {len(names)} model(s) ({shown}); see the table for n.", False, len(names))
    ]


def learning_findings(data: SimqData) -> list[Finding]:
    out: list[Finding] = []
    unclear: list[str] = []
    for r in data.learning:
        if r["el_delta"] is not None and excludes_zero(r["el_low"], r["el_high"]):
            way = "rises" if r["el_delta"] > 0 else "falls"
            out.append(
                Finding(
                    "learning",
                    f"{r['model']}: credited {way} from the first to the last steps of a run by "
                    f"{pp(r['el_delta'])} {interval(r['el_low'], r['el_high'])} "
                    f"(mean over {r['el_runs']} runs)",
                    True,
                    int(r["el_runs"]),
                    r["el_delta"],
                    r["el_low"],
                    r["el_high"],
                )
            )
        elif r["el_runs"]:
            unclear.append(str(r["model"]))
    return out + _summary("learning", "no clear change from early to late steps", unclear)


def failure_findings(data: SimqData) -> list[Finding]:
    """The no_snippet_quote alert and a significant attribution gap, per model."""
    out: list[Finding] = []
    seen: set[str] = set()
    for r in data.reasons:
        model = str(r["model"])
        if model in seen:
            continue
        seen.add(model)
        low = r["no_snippet_quote_rate_low"]
        if low is not None and low > 0.2:
            out.append(
                Finding(
                    "failures",
                    f"{model}: no_snippet_quote on {pct(r['no_snippet_quote_rate'])} of steps "
                    f"{interval(low, r['no_snippet_quote_rate_high'], 'rate')}, above the 20% alert line",
                    True,
                    int(r["steps_n"]),
                )
            )
    return out


def token_findings(data: SimqData) -> list[Finding]:
    out: list[Finding] = []
    unclear: list[str] = []
    for c in data.token_curves:
        if c.domain != "*" or c.status != "fitted":
            continue
        if c.shape == "peaked" and c.b2_p is not None and c.b2_p < 0.05:
            out.append(
                Finding(
                    "tokens",
                    f"{c.model}: credited peaks near {c.opt_tokens:.0f} student tokens per step at "
                    f"{pct(c.opt_credited)} {interval(c.opt_low, c.opt_high, 'rate')}; budgets from "
                    f"{c.band_low:.0f} to {c.band_high:.0f} cannot be told apart from it ({c.n_runs} runs)",
                    True,
                    c.n_runs,
                )
            )
        else:
            unclear.append(c.model)
    return out + _summary("tokens", "no clear token optimum inside the tried range", unclear)


def correlation_findings(data: SimqData) -> list[Finding]:
    out: list[Finding] = []
    unclear = 0
    for c in data.correlations:
        if c["r"] is None:
            continue
        if excludes_zero(c["low"], c["high"]):
            out.append(
                Finding(
                    "correlation",
                    f"{c['model']}: runs with more {c['x']} have {'higher' if c['r'] > 0 else 'lower'} "
                    f"credited (r = {c['r']:.2f} [{c['low']:.2f}, {c['high']:.2f}], {c['n']} runs)",
                    True,
                    int(c["n"]),
                )
            )
        else:
            unclear += 1
    if unclear:
        out.append(
            Finding("correlation", f"{unclear} other model x quantity correlations: inconclusive", False, 0)
        )
    return out
