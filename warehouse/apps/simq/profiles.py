"""Model profiles on top of best settings: what `warehouse defaults` adds from model_profiles.

best_settings says which tried setting did best; model_profiles says which evidence problem a model
has (rules with intervals). A profile override is applied only when its rule is decided 'yes' by
its interval; every change, and every rule left undecided, is explained in one line that goes to
stderr and into the TOML file as a comment above the model's dials.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

PROFILE_SQL = """
SELECT model, n_runs, n_steps, profile, evidence_limited, witness_limited, snippet_limited, token_heavy,
       overrides, coverage, coverage_low, coverage_high, evidence_fail_frac, evidence_fail_frac_low,
       evidence_fail_frac_high, witness, witness_low, witness_high, gap, gap_low, gap_high,
       no_snippet_rate, no_snippet_rate_low, no_snippet_rate_high, tokens_per_step,
       tokens_per_step_low, tokens_per_step_high
FROM model_profiles
"""
RULES = ("evidence_limited", "witness_limited", "snippet_limited", "token_heavy")


@dataclass(frozen=True)
class Change:
    model: str
    dial: str
    old: Any
    new: Any
    why: str


def _fmt(p: dict[str, Any], name: str) -> str:
    est, low, high = p.get(name), p.get(f"{name}_low"), p.get(f"{name}_high")
    if est is None:
        return f"{name} n/a"
    digits = 0 if name == "tokens_per_step" else 2
    interval = (
        f" [{low:.{digits}f}, {high:.{digits}f}]"
        if low is not None and high is not None
        else " [no interval]"
    )
    return f"{name} {est:.{digits}f}{interval}"


EVIDENCE = {
    "evidence_limited": ("coverage", "evidence_fail_frac"),
    "witness_limited": ("witness", "gap"),
    "snippet_limited": ("no_snippet_rate",),
    "token_heavy": ("tokens_per_step",),
}


def evidence(p: dict[str, Any], rule: str) -> str:
    """'rule yes: metric est [low, high], ...; n = R runs, S steps' for one model's rule."""
    metrics = ", ".join(_fmt(p, m) for m in EVIDENCE[rule])
    return f"{rule} {p[rule]}: {metrics}; n = {p['n_runs']} runs, {p['n_steps']} steps"


def _value(raw: str) -> Any:
    if raw in ("true", "false"):
        return raw == "true"
    try:
        return int(raw)
    except ValueError:
        return raw


def load(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    cur = con.execute(PROFILE_SQL)
    names = [d[0] for d in cur.description or []]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cur.fetchall()}


def apply_profiles(
    rows: list[dict[str, Any]], profiles: dict[str, dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows with decided profile overrides applied (later rules win a dial) and one note per change.

    Each row gets `_why`: the notes for its model (render_defaults writes them as comments)."""
    out: list[dict[str, Any]] = []
    notes: list[str] = []
    for row in rows:
        model = str(row["model"])
        p = profiles.get(model)
        new = dict(row)
        why: list[str] = []
        if p is not None:
            why.append(f"profile {p['profile']} (n = {p['n_runs']} runs, {p['n_steps']} steps)")
            for o in p["overrides"] or []:
                old, value = new.get(o["dial"]), _value(o["value"])
                if old != value:
                    why.append(f"{o['dial']} {old} -> {value}: {evidence(p, o['rule'])}")
                new[o["dial"]] = value
            why.extend(f"not applied, undecided: {evidence(p, r)}" for r in RULES if p[r] == "uncertain")
        new["_why"] = why
        notes.extend(f"{model}: {w}" for w in why)
        out.append(new)
    return out, notes
