"""warehouse.toml: where things live, path rules for model/provider/student/τ, and prices.

    [paths]  runs = "runs", db = "runs/runs.duckdb"
    [[path_rules]]  name, pattern (regex on the path under runs/), set = {model = "...", tau = "0.35"}
    [models]  "my-mixtral" = "mistralai/Mixtral-8x7B-Instruct-v0.1"   # alias -> canonical model id
    [status]  in_progress_minutes = 60   # an unfinished run whose file was written longer ago is
                                         # crashed if its last line is torn, else incomplete
    [prices."model"]  input_per_mtok, output_per_mtok

Looked up in this order: an explicit path, $WAREHOUSE_CONFIG, ./warehouse.toml. Missing is fine
(built-in defaults); present but invalid is a ConfigError naming the file and the problem.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warehouse.core.errors import ConfigError

DEFAULT_RUNS = "runs"
DEFAULT_DB = "runs/runs.duckdb"
# [ingest] max_line_bytes: a longer log line is quarantined (its first bytes kept, with the reason)
# instead of loaded; reading it takes memory bounded by this, not by the line.
DEFAULT_MAX_LINE_BYTES = 16 * 2**20
MIN_MAX_LINE_BYTES = 4096
DEFAULT_IN_PROGRESS_MINUTES = 60.0
ATTRIBUTES = ("provider", "model", "student", "tau", "stage")


def cache_dir() -> Path:
    """Where runs-warehouse keeps rebuildable caches: $XDG_CACHE_HOME/runs-warehouse, else
    ~/.cache/runs-warehouse (the empty template database, migration checksums, extensions)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "runs-warehouse"


@dataclass(frozen=True)
class PathRule:
    """One named rule: a regex searched in the path relative to the runs dir.

    Named groups (provider, model, student, tau, stage) and constant `set` values give
    attributes; `model_style` says how a file-name slug maps back to a model id.
    """

    name: str
    pattern: str
    set: dict[str, str] = field(default_factory=dict)
    model_style: str = "as_is"  # as_is | underscore_slash_dot | first_underscore_slash | known_prefix


@dataclass(frozen=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float


@dataclass(frozen=True)
class Config:
    source: str | None = None
    runs_dir: str = DEFAULT_RUNS
    db: str = DEFAULT_DB
    path_rules: tuple[PathRule, ...] = ()
    prices: dict[str, Price] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    models: dict[str, str] = field(default_factory=dict)  # [models] alias -> canonical id
    in_progress_minutes: float = DEFAULT_IN_PROGRESS_MINUTES  # [status]: older torn tail = crashed


def find_config_file(explicit: str | None = None) -> Path | None:
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"config file {explicit} not found: pass an existing warehouse.toml")
        return path
    env = os.environ.get("WAREHOUSE_CONFIG")
    if env:
        path = Path(env)
        if not path.is_file():
            raise ConfigError(f"$WAREHOUSE_CONFIG points to {env}, which does not exist")
        return path
    local = Path("warehouse.toml")
    return local if local.is_file() else None


def load_config(explicit: str | None = None) -> Config:
    path = find_config_file(explicit)
    if path is None:
        return Config(path_rules=builtin_rules())
    return parse_config(read_toml(path, "fix the file or move it away"), str(path))


def read_toml(path: Path, fix: str) -> dict[str, Any]:
    """The file's TOML table; a ConfigError '<path>: invalid TOML (<why>); <fix>' if it does not parse."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: invalid TOML ({e}); {fix}") from e


def parse_config(data: dict[str, Any], source: str = "<memory>") -> Config:
    paths = _table(data, "paths", source)
    user_rules = tuple(_rule(r, source) for r in _list(data, "path_rules", source))
    use_builtin = bool(data.get("builtin_path_rules", True))
    rules = user_rules + (builtin_rules() if use_builtin else ())
    prices = {name: _price(name, p, source) for name, p in _table(data, "prices", source).items()}
    return Config(
        source=source,
        runs_dir=str(paths.get("runs", DEFAULT_RUNS)),
        db=str(paths.get("db", DEFAULT_DB)),
        path_rules=rules,
        prices=prices,
        raw=data,
        max_line_bytes=_max_line_bytes(_table(data, "ingest", source), source),
        models=_models(data, source),
        in_progress_minutes=_minutes(data, source),
    )


def _models(data: dict[str, Any], source: str) -> dict[str, str]:
    """[models]: alias = "canonical id" (e.g. my-mixtral = "mistralai/Mixtral-8x7B-Instruct-v0.1")."""
    table = _table(data, "models", source)
    bad = [k for k, v in table.items() if not isinstance(v, str) or not v.strip()]
    if bad:
        raise ConfigError(
            f'{source}: [models] maps an alias to a model id string (alias = "org/Model"); fix {bad}'
        )
    return {str(k): str(v).strip() for k, v in table.items()}


def _minutes(data: dict[str, Any], source: str) -> float:
    value = _table(data, "status", source).get("in_progress_minutes", DEFAULT_IN_PROGRESS_MINUTES)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"{source}: [status] in_progress_minutes must be a positive number of minutes")
    return float(value)


def _max_line_bytes(ingest: dict[str, Any], source: str) -> int:
    value = ingest.get("max_line_bytes", DEFAULT_MAX_LINE_BYTES)
    if not isinstance(value, int) or isinstance(value, bool) or value < MIN_MAX_LINE_BYTES:
        raise ConfigError(
            f"{source}: [ingest] max_line_bytes must be a whole number of bytes >= {MIN_MAX_LINE_BYTES}"
            f" (default {DEFAULT_MAX_LINE_BYTES}, 16 MiB), not {value!r}"
        )
    return value


def _table(data: dict[str, Any], key: str, source: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: [{key}] must be a table")
    return value


def _list(data: dict[str, Any], key: str, source: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{source}: [[{key}]] must be an array of tables")
    return value


def _rule(raw: dict[str, Any], source: str) -> PathRule:
    import re

    name, pattern = raw.get("name"), raw.get("pattern")
    if not isinstance(name, str) or not isinstance(pattern, str):
        raise ConfigError(f"{source}: every [[path_rules]] needs a string name and pattern")
    try:
        re.compile(pattern)
    except re.error as e:
        raise ConfigError(f"{source}: path rule {name!r} has a bad regex: {e}") from e
    consts = {k: str(v) for k, v in raw.get("set", {}).items()}
    unknown = set(consts) - set(ATTRIBUTES)
    if unknown:
        raise ConfigError(f"{source}: path rule {name!r} sets unknown attributes {sorted(unknown)}")
    return PathRule(name, pattern, consts, str(raw.get("model_style", "as_is")))


def _price(name: str, raw: Any, source: str) -> Price:
    try:
        return Price(float(raw["input_per_mtok"]), float(raw["output_per_mtok"]))
    except (TypeError, KeyError, ValueError) as e:
        raise ConfigError(
            f"{source}: [prices.{name!r}] needs numeric input_per_mtok and output_per_mtok"
        ) from e


_P = r"(?P<provider>deepinfra|openai|together|openrouter|anthropic|ollama|vllm|local)"


def builtin_rules() -> tuple[PathRule, ...]:
    """Rules for the naming conventions of the old launch scripts.

    File-name suffixes after the model are allowed in any order: `_seed<n>`, `_N<steps>`,
    `_state<nnn>`, `_sc<k>`, `_b<n>`, `_t<tau>` / `_tau<tau>` and free words. The last two rules
    find a known model (or a [models] alias) at the start of a file or folder name."""
    sg, known = "underscore_slash_dot", "known_prefix"
    tail = r"(?=[_.])"  # the model slug ends at the next suffix or at the extension
    deepinfra_stateful = {"provider": "deepinfra", "student": "stateful-llm", "tau": "0.35"}
    return (
        PathRule(
            "scattergun",
            rf"scattergun_phase2/(?P<stage>[^/]+)/(?P<model>[^/]+?)_seed\d+_N\d+{tail}",
            deepinfra_stateful,
            sg,
        ),
        PathRule("guardrailed", r"guardrailed/(?P<model>[^/]+?)_state\d+(?=[_.])", deepinfra_stateful, known),
        PathRule("guardrailed_misc", r"guardrailed/", deepinfra_stateful),
        PathRule("compare", rf"compare/{_P}_(?P<model>[^/]+)/", {"student": "llm", "tau": "0.40"}),
        PathRule(
            "minisuite_openai_default",
            rf"exp/openai_default_sc\d+_b\d+{tail}",
            {"provider": "openai", "model": "gpt-4.1", "student": "stateful-llm", "tau": "0.25"},
        ),
        PathRule(
            "minisuite",
            rf"exp/{_P}_(?P<model>[^/]+?)_sc\d+_b\d+{tail}",
            {"student": "stateful-llm", "tau": "0.25"},
        ),
        PathRule(
            "fc_batch_tau35",
            r"fc_sc3_v2_batch\d+_tau35\.",
            {"provider": "deepinfra", "model": "deepseek-ai/DeepSeek-R1", "student": "llm", "tau": "0.35"},
        ),
        PathRule(
            "fc_batch",
            r"fc_sc3_v2_batch\d+\.",
            {"provider": "deepinfra", "model": "deepseek-ai/DeepSeek-R1", "student": "llm", "tau": "0.40"},
        ),
        PathRule(
            "strict_41",
            r"strict/openai_41_",
            {"provider": "openai", "model": "gpt-4.1", "student": "stateful-llm", "tau": "0.25"},
        ),
        PathRule(
            "strict_mixtral",
            r"strict/mixtral_",
            {
                "provider": "deepinfra",
                "model": "mistralai/Mixtral-8x7B-Instruct-v0.1",
                "student": "stateful-llm",
                "tau": "0.30",
            },
        ),
        PathRule("oracle_name", r"(^|/)oracle_", {"student": "oracle", "model": "oracle"}),
        PathRule("smoke", rf"smoke/(?P<model>[^/]+?)_N\d+{tail}", {}, "first_underscore_slash"),
        PathRule("window", rf"window/{_P}_(?P<model>[^/]+?)_N\d+{tail}", {}),
        PathRule("tau_in_name", r"tau0?(?P<tau>\d{2,3})(?=[_.])", {}),
        PathRule("t_in_name", r"_t(?P<tau>0\d{2}|[1-9]\d)(?=[_.])", {}),
        PathRule(
            "mixtral_name",
            r"(^|/)mixtral_",
            {"provider": "deepinfra", "model": "mistralai/Mixtral-8x7B-Instruct-v0.1"},
        ),
        PathRule("model_in_file_name", r"(?:^|/)(?P<model>[^/]+?)\.jsonl(?:\.recovered|\.gz)?$", {}, known),
        PathRule("model_in_folder_name", r"(?:^|/)(?P<model>[^/]+)/[^/]+$", {}, known),
    )
