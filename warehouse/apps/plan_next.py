"""`warehouse plan-next`: a sweep plan (the runner's TOML) with the runs that would settle open questions.

Open questions, read from the v2 statistics in one scope:
- ties for best: a model x task type x tau whose could-be-best set has several settings, or whose
  recommendation says more_data_needed: every could-be-best setting gets the runs the best needs
  to be proven non-inferior (runs_needed), at least one;
- inconclusive dial effects: a value whose effect is not significant but would be detectable with
  runs_needed runs: its settings get the missing runs, spread over them;
- thin settings: below min_steps: the runs that bring them to min_steps.
Each setting's dials are taken from one of its logged runs (only dials the runner knows), so the
new runs repeat the setting with new seeds. The plan crosses its models and stages (the runner's
model), so each listed model runs each listed setting; MAX_SEEDS caps a stage.
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from runner.dials import Dials
from warehouse.apps.analysis import DIALS, run
from warehouse.apps.scope import ARGS, Scope

if TYPE_CHECKING:
    import duckdb

MAX_SEEDS = 8
KNOWN_DIALS = {f.name for f in fields(Dials)}


@dataclass
class Need:
    seeds: int = 0
    why: list[str] = field(default_factory=list)

    def add(self, seeds: int, why: str) -> None:
        self.seeds = max(self.seeds, min(MAX_SEEDS, max(1, seeds)))
        self.why.append(why)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    result = run(con, sql, params)
    return [dict(zip(result.columns, r, strict=True)) for r in result.rows]


def open_questions(
    con: duckdb.DuckDBPyConnection, scope: Scope, margin: float, min_steps: int
) -> dict[str, Need]:
    """setting_id -> the seeds to add and why."""
    needs: dict[str, Need] = defaultdict(Need)
    settings = _rows(
        con,
        f"SELECT * FROM best_settings_for({ARGS}, min_steps := ?, margin := ?)",
        [*scope.params, min_steps, margin],
    )
    for r in settings:
        label = f"{r['model']} {r['setting_id']}"
        if r["below_min_n"]:
            per_run = max(1.0, r["n_steps"] / max(1, r["n_runs"]))
            needs[r["setting_id"]].add(
                math.ceil((min_steps - r["n_steps"]) / per_run), f"{label}: thin ({r['n_steps']} steps)"
            )
    open_groups = {
        (r["model"], r["task_type"], r["tau"])
        for r in settings
        if r["is_recommended"] and (r["more_data_needed"] or r["best_set_size"] > 1)
    }
    for r in settings:
        if (r["model"], r["task_type"], r["tau"]) not in open_groups or not r["could_be_best"]:
            continue
        group = [
            s
            for s in settings
            if (s["model"], s["task_type"], s["tau"]) == (r["model"], r["task_type"], r["tau"])
        ]
        wanted = max([s["runs_needed"] or 0 for s in group if s["could_be_best"]] + [r["n_runs"] + 1])
        needs[r["setting_id"]].add(
            wanted - r["n_runs"], f"{r['model']} {r['setting_id']}: could be best ({len(group)} settings)"
        )
    effects = _rows(
        con,
        f"SELECT * FROM dial_effects_for({ARGS})"
        " WHERE NOT is_ref AND NOT significant AND runs_needed IS NOT NULL",
        scope.params,
    )
    for e in effects:
        if e["dial"] not in DIALS:
            continue
        ids = [
            r[0]
            for r in run(
                con,
                f'SELECT DISTINCT setting_id FROM runs WHERE model = ? AND "{e["dial"]}"::VARCHAR = ?',
                [e["model"], e["value"]],
            ).rows
        ]
        for setting_id in ids:
            needs[setting_id].add(
                math.ceil((e["runs_needed"] - e["n_runs"]) / max(1, len(ids))),
                f"{e['model']} {e['dial']}={e['value']}: inconclusive (mde {e['mde']:.3f})",
            )
    return dict(needs)


def _toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def build_plan(con: duckdb.DuckDBPyConnection, scope: Scope, margin: float, min_steps: int, name: str) -> str:
    """The plan's TOML text ('' when nothing is open)."""
    needs = open_questions(con, scope, margin, min_steps)
    if not needs:
        return ""
    ids = sorted(needs)
    runs = _rows(
        con,
        """
        SELECT setting_id, list(DISTINCT [model, coalesce(student, 'llm'), provider]) AS models,
               any_value(dials::VARCHAR) AS dials, any_value(tau) AS tau,
               median(planned_steps)::BIGINT AS steps
        FROM runs WHERE list_contains(?, setting_id) AND model IS NOT NULL AND model <> 'unknown'
        GROUP BY setting_id""",
        [ids],
    )
    models: dict[str, dict[str, Any]] = {}
    lines = [
        "# Written by `warehouse plan-next`: runs that would settle the open questions.",
        f"# Scope: {scope.describe()}. Run: warehouse sweep <this file> --dry-run, then without.",
        f'name = "{name}"',
        f"seed_base = {700_000_000 + int(time.time()) % 100_000_000}",
    ]
    taus = {r["tau"] for r in runs if r["tau"] is not None}
    lines += [f"coverage_tau = {taus.pop()}"] if len(taus) == 1 else []
    stages = []
    for r in sorted(runs, key=lambda r: r["setting_id"]):
        for m, student, provider in r["models"]:
            models.setdefault(m, {"student": student, "provider": provider, "model": m})
        raw = json.loads(r["dials"]) if r["dials"] else {}
        dials = {k: v for k, v in raw.items() if k in KNOWN_DIALS and v is not None}
        need = needs[r["setting_id"]]
        stages.append(
            [f"# {why}" for why in need.why]
            + [
                "[[stages]]",
                f'name = "s{r["setting_id"]}"',
                f"steps = {int(r['steps'] or 20)}",
                f"seeds = {need.seeds}",
                f"dials = {_toml_value(dials)}",
                "",
            ]
        )
    for m in models.values():
        lines += ["", "[[models]]"] + [f"{k} = {json.dumps(v)}" for k, v in m.items() if v is not None]
    lines.append("")
    for stage in stages:
        lines += stage
    return "\n".join(lines)
