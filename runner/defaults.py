"""Per-model dial defaults: the TOML `warehouse defaults` writes and `--dials auto` reads.

# written by `warehouse defaults` ...
[models."mistralai/Mixtral-8x7B-Instruct-v0.1"]
self_consistency_n = 3
fact_cards_budget = 8
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from runner.dials import Dials, with_overrides
from warehouse.core.config import read_toml
from warehouse.core.errors import ConfigError

DEFAULTS_FILE = "model_defaults.toml"
DEFAULT_DIALS = (
    "self_consistency_n",
    "fact_cards_budget",
    "best_of_n",
    "sc_extract_n",
    "q_min",
    "idk_enabled",
    "max_learn_boosts",
    "use_tools",
    "rerank",
    "evidence_weighted_selection",
)


def defaults_path(path: str | Path | None = None) -> Path:
    return Path(path or os.environ.get("WAREHOUSE_MODEL_DEFAULTS") or DEFAULTS_FILE)


def load_defaults(path: str | Path | None = None) -> dict[str, dict[str, Any]]:
    p = defaults_path(path)
    if not p.is_file():
        raise ConfigError(f"no {p}: run 'warehouse defaults --out {p}' first (it needs ingested runs)")
    data = read_toml(p, "rewrite it with 'warehouse defaults'")
    models = data.get("models", {})
    if not isinstance(models, dict):
        raise ConfigError(f"{p}: [models] must be a table of model tables")
    return models


def dials_for_model(base: Dials, model: str, path: str | Path | None = None) -> Dials:
    """`base` with the model's recommended dials applied (ConfigError if the model is absent)."""
    dials, where = applied_dials(model, path)
    return with_overrides(base, dials, where)


def render_defaults(rows: list[dict[str, Any]], source: str) -> str:
    """TOML text for rows of {model, <dial>: value, ...} (values None are left out)."""
    lines = [
        f"# Per-model dial defaults written by `warehouse defaults` from {source}.",
        '# `warehouse run --dials auto` and plan models with dials = "auto" read this file.',
        "",
    ]
    for row in sorted(rows, key=lambda r: str(r["model"])):
        lines.extend(_evidence_comment(row.get("evidence") or {}))
        lines.extend(f"# {why}" for why in row.get("_why", ()))
        lines.append(f"[models.{json.dumps(str(row['model']))}]")
        for name in DEFAULT_DIALS:
            value = row.get(name)
            if value is not None:
                lines.append(f"{name} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _evidence_comment(ev: dict[str, Any]) -> list[str]:
    """`# n = 60 steps in 3 runs; credited 0.450 (95% interval 0.331-0.575); tau 0.4; task mcq`."""
    if not ev:
        return []
    parts = [f"n = {ev.get('n_steps')} steps in {ev.get('n_runs')} runs"]
    rate, low, high = (ev.get(f"credited{s}", ev.get(f"rate{s}")) for s in ("", "_low", "_high"))
    if rate is not None:
        interval = f" (95% interval {low:.3f}-{high:.3f})" if low is not None and high is not None else ""
        parts.append(f"credited {rate:.3f}{interval}")
    parts += [f"{k} {ev[k]}" for k in ("tau", "task") if ev.get(k) is not None]
    if ev.get("more_data_needed"):
        more = f" (about {ev['runs_needed']} more runs would decide)" if ev.get("runs_needed") else ""
        parts.append(f"not proven within the margin of the best: more data needed{more}")
    return ["# " + "; ".join(parts)]


def applied_dials(model: str, path: str | Path | None = None) -> tuple[dict[str, Any], str]:
    """The dials `--dials auto` applies for `model` and where they come from (file [models."id"])."""
    models = load_defaults(path)
    name = _entry(models, model, path)
    return dict(models[name]), f'{defaults_path(path)} [models."{name}"]'


def _entry(models: dict[str, dict[str, Any]], model: str, path: str | Path | None) -> str:
    """The file's entry for `model`: the same id, or the same model spelled otherwise."""
    from warehouse.core.models import model_key, model_names

    if model in models:
        return model
    names = model_names()
    wanted = (names.lookup(model) or (model, ""))[0]
    for name in models:
        if model_key(name) == model_key(model) or (names.lookup(name) or (name, ""))[0] == wanted:
            return name
    known = ", ".join(sorted(models)) or "none"
    raise ConfigError(
        f"{defaults_path(path)} has no defaults for {model!r} (it has: {known}); "
        "run that model first or give dials explicitly"
    )


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(str(value))
