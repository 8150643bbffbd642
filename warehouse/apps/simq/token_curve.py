"""Credited share versus student tokens per step: a quasi-binomial GLM per model (statsmodels).

Each MCQ run is one observation: its credited steps out of its MCQ steps, at its mean student tokens
per step. The model is logit(credited) = b0 + b1 z + b2 z^2 with z the standardised log tokens per
step; the dispersion is estimated from the Pearson chi-square (quasi-binomial), so runs that vary
more than binomial sampling allows widen the interval instead of being taken as independent steps.

The optimum is the grid point (60 log-spaced points over the observed range) with the highest
fitted credited share; shape says whether it is inside the range (peaked) or at an end (rising /
falling). The band is the contiguous run of grid points around the optimum whose 95% upper bound
reaches the fitted optimum: token budgets the data cannot tell apart from the best one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from warehouse.core.errors import UsageError

if TYPE_CHECKING:
    import duckdb

GRID = 60
MIN_RUNS = 6
MIN_LEVELS = 3

RUNS_SQL = """
SELECT model, coalesce(domain, '?') AS domain, credited_n, steps_n, tokens_per_step
FROM runs_summary
WHERE counted AND steps_n > 0 AND tokens_per_step > 0 AND credited_n IS NOT NULL
  AND coalesce(task, 'mcq') = 'mcq'
ORDER BY model, domain, run_key
"""


@dataclass(frozen=True)
class Run:
    credited_n: int
    steps_n: int
    tokens: float


@dataclass(frozen=True)
class Curve:
    model: str
    domain: str
    n_runs: int
    n_steps: int
    status: str
    shape: str | None = None
    coef: tuple[float, float, float] | None = None
    b2_p: float | None = None
    dispersion: float | None = None
    tokens_min: float | None = None
    tokens_max: float | None = None
    opt_tokens: float | None = None
    opt_credited: float | None = None
    opt_low: float | None = None
    opt_high: float | None = None
    band_low: float | None = None
    band_high: float | None = None
    points: tuple[tuple[float, float, float, float], ...] = ()

    def row(self) -> tuple[Any, ...]:
        b = self.coef or (None, None, None)
        return (
            self.model, self.domain, self.n_runs, self.n_steps, self.status, self.shape, *b, self.b2_p,
            self.dispersion, self.tokens_min, self.tokens_max, self.opt_tokens, self.opt_credited,
            self.opt_low, self.opt_high, self.band_low, self.band_high,
        )  # fmt: skip


COLUMNS = [
    "model", "domain", "n_runs", "n_steps", "status", "shape", "b0", "b1", "b2", "b2_p", "dispersion",
    "tokens_min", "tokens_max", "opt_tokens", "opt_credited", "opt_low", "opt_high", "band_low", "band_high",
]  # fmt: skip


def fit(model: str, domain: str, runs: list[Run], min_runs: int = MIN_RUNS) -> Curve:
    """Fit one curve; too little data (or a failed fit) gives a row that says so, never a guess."""
    n_steps = sum(r.steps_n for r in runs)
    levels = {round(math.log(r.tokens), 2) for r in runs}
    if len(runs) < min_runs or len(levels) < MIN_LEVELS:
        return Curve(model, domain, len(runs), n_steps, "too_few_runs")
    import numpy as np

    try:
        import statsmodels.api as sm
    except ImportError as e:
        raise UsageError("token-curve needs statsmodels: pip install 'runs-warehouse[stats]'") from e

    logt = np.log([r.tokens for r in runs])
    mu, sd = float(logt.mean()), float(logt.std())
    z = (logt - mu) / sd
    k = np.array([r.credited_n for r in runs], dtype=float)
    n = np.array([r.steps_n for r in runs], dtype=float)
    endog = np.column_stack([k, n - k])
    exog = np.column_stack([np.ones_like(z), z, z * z])
    try:
        res = sm.GLM(endog, exog, family=sm.families.Binomial()).fit(scale="X2")
        grid_t = np.exp(np.linspace(logt.min(), logt.max(), GRID))
        gz = (np.log(grid_t) - mu) / sd
        frame = res.get_prediction(np.column_stack([np.ones_like(gz), gz, gz * gz])).summary_frame(alpha=0.05)
    except (ValueError, np.linalg.LinAlgError, FloatingPointError) as e:
        return Curve(model, domain, len(runs), n_steps, f"fit_failed: {type(e).__name__}")
    mean = frame["mean"].to_numpy()
    low, high = frame["mean_ci_lower"].to_numpy(), frame["mean_ci_upper"].to_numpy()
    if not np.all(np.isfinite(mean)):
        return Curve(model, domain, len(runs), n_steps, "fit_failed: not finite")
    best = int(np.argmax(mean))
    lo = hi = best
    while lo > 0 and high[lo - 1] >= mean[best]:
        lo -= 1
    while hi < GRID - 1 and high[hi + 1] >= mean[best]:
        hi += 1
    shape = "rising" if best == GRID - 1 else "falling" if best == 0 else "peaked"
    b0, b1, b2 = (float(x) for x in res.params)
    return Curve(
        model, domain, len(runs), n_steps, "fitted", shape, (b0, b1, b2), float(res.pvalues[2]),
        float(res.scale), float(grid_t[0]), float(grid_t[-1]), float(grid_t[best]), float(mean[best]),
        float(low[best]), float(high[best]), float(grid_t[lo]), float(grid_t[hi]),
        tuple(zip(map(float, grid_t), map(float, mean), map(float, low), map(float, high), strict=True)),
    )  # fmt: skip


def fit_all(con: duckdb.DuckDBPyConnection, min_runs: int = MIN_RUNS) -> list[Curve]:
    """One curve per model (domain '*'), plus one per domain for models logged in several."""
    by_model: dict[str, dict[str, list[Run]]] = {}
    for model, domain, k, n, tokens in con.execute(RUNS_SQL).fetchall():
        by_model.setdefault(model, {}).setdefault(domain, []).append(Run(int(k), int(n), float(tokens)))
    curves = []
    for model, domains in sorted(by_model.items()):
        curves.append(fit(model, "*", [r for runs in domains.values() for r in runs], min_runs))
        if len(domains) > 1:
            curves.extend(fit(model, d, runs, min_runs) for d, runs in sorted(domains.items()))
    return curves


def store(con: duckdb.DuckDBPyConnection, curves: list[Curve]) -> None:
    """Replace token_curve and token_curve_points (call inside a writer)."""
    con.execute("DELETE FROM token_curve")
    con.execute("DELETE FROM token_curve_points")
    if curves:
        con.executemany(
            f"INSERT INTO token_curve VALUES ({', '.join('?' * len(COLUMNS))}, now()::TIMESTAMP)",
            [c.row() for c in curves],
        )
    points = [(c.model, c.domain, *p) for c in curves for p in c.points]
    if points:
        con.executemany("INSERT INTO token_curve_points VALUES (?, ?, ?, ?, ?, ?)", points)


def guardrails(curve: Curve) -> dict[str, Any]:
    """The band as a guardrails file for `warehouse run --guardrails` (tokens per step)."""
    return {
        "source": "warehouse token-curve",
        "model": curve.model,
        "domain": curve.domain,
        "n_runs": curve.n_runs,
        "tokens_per_step": {
            "opt": curve.opt_tokens,
            "band_low": curve.band_low,
            "band_high": curve.band_high,
        },
    }
