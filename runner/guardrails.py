"""Token guardrails: a band of student tokens per step, checked after every step and logged.

The band file is what `warehouse token-curve --guardrails-out` writes (the old guardrails.json
shape also loads): {"tokens_per_step": {"opt", "band_low", "band_high"}, optional "tokens_run"}.
Each step then logs `guardrail_alerts` in the simulator's format:
  tokens_step: {tokens, state, band_low, band_high, opt, autonudge, action}
  tokens_run:  {tokens_cum, band_low, band_high, opt}      (when the file has a run band)
state: below_band (< band_low), above_band (> band_high), near_trough (within half the trough
margin times the band width of opt) or in_band. This runner never changes dials mid-run, so
autonudge is always false and the action only warns: warn_richer, warn_leaner, or alert.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warehouse.core.errors import ConfigError

TROUGH_MARGIN = 0.10


@dataclass(frozen=True)
class Band:
    low: float
    high: float
    opt: float


@dataclass(frozen=True)
class Guardrails:
    step: Band
    run: Band | None
    source: dict[str, Any]

    def alerts(self, tokens: int, tokens_cum: int) -> dict[str, Any]:
        b = self.step
        if tokens < b.low:
            state, action = "below_band", "warn_richer"
        elif tokens > b.high:
            state, action = "above_band", "warn_leaner"
        elif abs(tokens - b.opt) <= 0.5 * TROUGH_MARGIN * (b.high - b.low):
            state, action = "near_trough", "alert"
        else:
            state, action = "in_band", None
        out: dict[str, Any] = {
            "tokens_step": {
                "tokens": tokens,
                "state": state,
                "band_low": b.low,
                "band_high": b.high,
                "opt": b.opt,
                "autonudge": False,
                "action": action,
            }
        }
        if self.run is not None:
            r = self.run
            out["tokens_run"] = {
                "tokens_cum": tokens_cum,
                "band_low": r.low,
                "band_high": r.high,
                "opt": r.opt,
            }
        return out


def _band(table: Any, where: str) -> Band:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: needs a table with opt, band_low and band_high")
    try:
        low, high, opt = (float(table[k]) for k in ("band_low", "band_high", "opt"))
    except (KeyError, TypeError, ValueError) as e:
        raise ConfigError(f"{where}: opt, band_low and band_high must be numbers ({e})") from e
    if not low <= opt <= high:
        raise ConfigError(f"{where}: needs band_low <= opt <= band_high")
    return Band(low, high, opt)


def load_guardrails(path: str | Path) -> Guardrails:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(
            f"guardrails file {p} not found (write one with 'warehouse token-curve --guardrails-out')"
        )
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p}: not valid JSON ({e})") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: must be a JSON object")
    run = data.get("tokens_run")
    return Guardrails(
        _band(data.get("tokens_per_step"), f"{p} tokens_per_step"),
        _band(run, f"{p} tokens_run") if run is not None else None,
        data,
    )
