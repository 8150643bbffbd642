"""Sweep plans: a TOML file declaring stages, models and dial grids, expanded into RunSpecs.

    name = "minisuite"                  # logs go to <runs_dir>/<name>/<stage>/
    seed_base = 424242                  # seed i of a stage = seed_base + i (same for every model)
    coverage_tau = 0.35
    [dials]                             # base dials for every run
    [providers.deepinfra]               # endpoint overrides (base_url, api_key_env, timeout_s, ...)
    [[models]]                          # student (default "llm"), provider, model, dials
    task = "mcq"                        # mcq | saq | alias_swap (a stage may set its own)
    [[stages]]                          # name, steps, seeds, task, dials, [stages.grid] lists of values
    [tutor]                             # optional: provider, model -> items written by a model
    guardrails = "band.json"            # optional: token band; every step logs guardrail_alerts
    log_messages = "text"               # none | counts | text: each call's transcript in the logs

Dials: plan < stage < model < grid point. A model's `dials = "auto"` takes its recommended
setting from the model-defaults TOML written by `warehouse defaults`.
File names: <model>_seed<S>_N<steps>[_<grid tag>].jsonl, e.g. oracle_seed424242_N12_b5_idk1.jsonl.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

from runner.defaults import dials_for_model
from runner.dials import Dials, tag, with_overrides
from runner.endpoint import resolve_endpoint
from runner.guardrails import load_guardrails
from runner.run import LOG_MESSAGES, STUDENTS, RunSpec
from warehouse.core.config import read_toml
from warehouse.core.errors import ConfigError

PLAN_KEYS = {
    "name",
    "runs_dir",
    "seed_base",
    "coverage_tau",
    "num_options",
    "deadline_s",
    "task_file",
    "dials",
    "providers",
    "models",
    "stages",
    "defaults_file",
    "tutor",
    "task",
    "guardrails",
    "log_messages",
}
STAGE_KEYS = {"name", "steps", "seeds", "dials", "grid", "coverage_tau", "task"}
MODEL_KEYS = {"student", "provider", "model", "dials"}


def load_plan(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"plan file {path} not found")
    data = read_toml(p, "fix the plan file")
    data.setdefault("name", p.stem)
    return data


def expand(
    plan: dict[str, Any],
    runs_dir: str | Path | None = None,
    *,
    source: str = "plan",
    providers: dict[str, Any] | None = None,
    argv: tuple[str, ...] = (),
) -> list[RunSpec]:
    """Every run the plan asks for, in stage, model, grid, seed order."""
    _check_keys(plan, PLAN_KEYS, source)
    name = _slug(str(plan["name"]))
    root = Path(runs_dir or plan.get("runs_dir") or "runs") / name
    base = with_overrides(Dials(), plan.get("dials", {}), f"{source} [dials]")
    tables = {**(providers or {}), **plan.get("providers", {})}
    models = _list(plan, "models", source)
    stages = _list(plan, "stages", source)
    specs = [
        spec
        for stage in stages
        for model in models
        for spec in _runs(plan, stage, model, base, root, tables, source, argv)
    ]
    _check_unique(specs, source)
    return specs


def _runs(
    plan: dict[str, Any],
    stage: dict[str, Any],
    model: dict[str, Any],
    base: Dials,
    root: Path,
    tables: dict[str, Any],
    source: str,
    argv: tuple[str, ...],
) -> list[RunSpec]:
    _check_keys(stage, STAGE_KEYS, f"{source} stage")
    _check_keys(model, MODEL_KEYS, f"{source} model")
    stage_name = _slug(str(stage.get("name", "main")))
    student = str(model.get("student", "llm"))
    if student not in STUDENTS:
        raise ConfigError(f"{source}: student {student!r} is not one of {', '.join(STUDENTS)}")
    model_id = str(model.get("model", student))
    dials = with_overrides(base, stage.get("dials", {}), f"{source} stage {stage_name}")
    dials = _model_dials(dials, model, model_id, plan, source)
    endpoint = None
    if student == "llm":
        endpoint = resolve_endpoint(str(model.get("provider", "openai")), tables)
    steps = _int(stage.get("steps", 10), "steps", source)
    tutor = _tutor(plan.get("tutor"), tables, source)
    guardrails = load_guardrails(plan["guardrails"]) if plan.get("guardrails") else None
    out = []
    for point in _grid(stage.get("grid", {}), source):
        point_dials = with_overrides(dials, point, f"{source} stage {stage_name} grid")
        for i in range(_int(stage.get("seeds", 1), "seeds", source)):
            seed = _int(plan.get("seed_base", 424242), "seed_base", source) + i
            log = root / stage_name / _file_name(model_id, seed, steps, point)
            out.append(
                RunSpec(
                    student=student,
                    model=model_id,
                    steps=steps,
                    log=log,
                    seed=seed,
                    dials=point_dials,
                    provider=endpoint.provider if endpoint else None,
                    endpoint=endpoint,
                    coverage_tau=float(stage.get("coverage_tau", plan.get("coverage_tau", 0.4))),
                    num_options=_int(plan.get("num_options", 5), "num_options", source),
                    task_file=plan.get("task_file"),
                    task=str(stage.get("task", plan.get("task", "mcq"))),
                    deadline_s=plan.get("deadline_s"),
                    **tutor,
                    plan={"name": str(plan["name"]), "stage": stage_name, "seed": seed},
                    argv=argv,
                    guardrails=guardrails,
                    log_messages=_log_messages(plan, source),
                )
            )
    return out


def _log_messages(plan: dict[str, Any], source: str) -> str:
    value = str(plan.get("log_messages", "text"))
    if value not in LOG_MESSAGES:
        raise ConfigError(f"{source}: log_messages = {value!r}; use one of {', '.join(LOG_MESSAGES)}")
    return value


def _tutor(table: Any, tables: dict[str, Any], source: str) -> dict[str, Any]:
    """[tutor] provider/model: items written by a model instead of the templates."""
    if table is None:
        return {}
    if not isinstance(table, dict) or not isinstance(table.get("model"), str):
        raise ConfigError(f"{source}: [tutor] needs a model (and optionally a provider)")
    _check_keys(table, {"model", "provider"}, f"{source} [tutor]")
    endpoint = resolve_endpoint(str(table.get("provider", "openai")), tables)
    return {"tutor": "llm", "tutor_model": table["model"], "tutor_endpoint": endpoint}


def _model_dials(
    dials: Dials, model: dict[str, Any], model_id: str, plan: dict[str, Any], source: str
) -> Dials:
    own = model.get("dials", {})
    if own == "auto":
        return dials_for_model(dials, model_id, plan.get("defaults_file"))
    if not isinstance(own, dict):
        raise ConfigError(f'{source}: model {model_id} dials must be a table or "auto"')
    return with_overrides(dials, own, f"{source} model {model_id}")


def _grid(grid: Any, source: str) -> list[dict[str, Any]]:
    if not isinstance(grid, dict):
        raise ConfigError(f"{source}: [stages.grid] must be a table of lists")
    names = list(grid)
    values = [v if isinstance(v, list) else [v] for v in grid.values()]
    if any(not v for v in values):
        raise ConfigError(f"{source}: every grid dial needs at least one value")
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]


def _file_name(model: str, seed: int, steps: int, point: dict[str, Any]) -> str:
    suffix = f"_{tag(point)}" if point else ""
    return f"{_slug(model)}_seed{seed}_N{steps}{suffix}.jsonl"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "_", text.replace("/", "_")).strip("_") or "x"


def _list(plan: dict[str, Any], key: str, source: str) -> list[dict[str, Any]]:
    value = plan.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{source}: needs at least one [[{key}]] table")
    return value


def _check_keys(table: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(table) - allowed
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}; allowed: {', '.join(sorted(allowed))}")


def _int(value: Any, name: str, source: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{source}: {name} must be a non-negative integer, not {value!r}")
    return value


def _check_unique(specs: list[RunSpec], source: str) -> None:
    seen: dict[Path, RunSpec] = {}
    for spec in specs:
        if spec.log in seen:
            raise ConfigError(f"{source}: two runs would share {spec.log}; give models distinct names")
        seen[spec.log] = spec
